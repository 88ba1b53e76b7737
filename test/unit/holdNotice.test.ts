/**
 * How `follow` tells a hold from a running run, and what it tells the user (issue 19, part 3). The
 * goals come from the workflow's own goal functions, so a change in how a hold is recorded (the
 * budget's reason text, the statuses) fails here rather than silently hiding a hold.
 */
import { describe, expect, it } from 'vitest';
import { holdNotice, holdOf } from '../../src/cli/follow';
import type { Progress } from '../../src/protocol/progress';
import { accountUsage, endUndelivered, type GoalState, goalView, holdView, newGoal, pause, resume } from '../../src/workflows/goal';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const ENDPOINT = 'model endpoint failing (the model endpoint failed (HTTP 503): 503 upstream down); fix it and resume the run';

function progress(g: GoalState, status: Progress['status'] = 'running'): Progress {
  return { runId: 'r1', status, goal: goalView(g, T0 + 1_000), hold: holdView(g) } as Progress;
}
const overBudget = () => accountUsage(newGoal('x', 100, T0), { inputTokens: 150, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 }, T0);

describe('holdOf', () => {
  it('an active goal, and a budget-limited one that is not held, are not holds', () => {
    expect(holdOf(progress(newGoal('x', null, T0)))).toBeUndefined();
    const limited = overBudget();
    expect(limited.status).toBe('budget_limited');
    expect(holdOf(progress(limited))).toBeUndefined();
  });

  it('tells a user pause from a run that held itself by the kind the workflow recorded, not by the reason text', () => {
    expect(holdOf(progress(pause(newGoal('x', null, T0), 'paused by the user', T0, 'user')))).toEqual({ reason: 'paused by the user', kind: 'user' });
    expect(holdOf(progress(pause(newGoal('x', null, T0), ENDPOINT, T0, 'endpoint')))).toEqual({ reason: ENDPOINT, kind: 'endpoint' });
    const stalled = 'stalled: the Solver produced no tool call and no signal after the continuation and finalization prompts; steer it and resume';
    expect(holdOf(progress(pause(newGoal('x', null, T0), stalled, T0, 'steer')))?.kind).toBe('steer');
    // A reason that reads like another kind is still the kind recorded.
    expect(holdOf(progress(pause(newGoal('x', null, T0), 'stalled: looks like a steer hold', T0, 'user')))?.kind).toBe('user');
  });

  it('a worker that reports no hold (older than hold kinds): a paused goal is a hold of kind other', () => {
    const { hold: _absent, ...old } = progress(pause(newGoal('x', null, T0), ENDPOINT, T0, 'endpoint'));
    expect(holdOf(old as Progress)).toEqual({ reason: ENDPOINT, kind: 'other' });
  });

  it('a goal held before kinds were recorded (carried over by continue-as-new) is a hold of kind other', () => {
    const { holdKind: _absent, ...legacy } = pause(newGoal('x', null, T0), 'paused', T0, 'user');
    expect(holdOf(progress(legacy))).toEqual({ reason: 'paused', kind: 'other' });
  });

  it('sees a hold on a budget-limited goal (it keeps that status while held)', () => {
    const held = pause(overBudget(), ENDPOINT, T0, 'endpoint');
    expect(held.status).toBe('budget_limited');
    expect(holdOf(progress(held))).toEqual({ reason: ENDPOINT, kind: 'endpoint' });
  });

  it('a resumed goal and an ended run are not held', () => {
    expect(holdOf(progress(resume(pause(newGoal('x', null, T0), ENDPOINT, T0, 'endpoint'), T0)))).toBeUndefined();
    expect(holdOf(progress(endUndelivered(newGoal('x', null, T0), 'failed', 'boom', T0), 'failed'))).toBeUndefined();
  });
});

describe('holdNotice', () => {
  it('a user pause: one line naming infty resume', () => {
    const lines = holdNotice('r1', { reason: 'paused by the user', kind: 'user' });
    expect(lines[0]).toBe('run r1 is paused by the user; `infty resume r1` resumes it');
  });

  it('an endpoint hold names the process that reads OPENAI_BASE_URL, and the commands in order', () => {
    const embedded = holdNotice('r1', { reason: ENDPOINT, kind: 'endpoint' }, { embeddedWorker: true }).join('\n');
    expect(embedded).toContain(`run r1 is held: ${ENDPOINT}`);
    expect(embedded).toContain('this process runs the worker, so OPENAI_BASE_URL / OPENAI_API_KEY are read from');
    expect(embedded.indexOf('infty worker')).toBeLessThan(embedded.indexOf('infty resume r1'));
    expect(embedded.indexOf('infty resume r1')).toBeLessThan(embedded.indexOf('infty watch r1'));
    const remote = holdNotice('r1', { reason: ENDPOINT, kind: 'endpoint' }, { exitOnHold: true }).join('\n');
    expect(remote).toContain('read by the worker — the process running');
    expect(remote).not.toContain('this process runs the worker');
    expect(remote).toContain('exit code 4');
  });

  it('a stalled run: steer, then resume', () => {
    const text = holdNotice('r1', { reason: 'stalled: …', kind: 'steer' }).join('\n');
    expect(text).toMatch(/infty steer r1 "[^"]+"\n +infty resume r1/);
  });
});
