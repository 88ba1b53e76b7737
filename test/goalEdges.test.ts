/**
 * Where the goal's rules meet the convergence watchdog, approvals and steering (docs/behaviour.md
 * §3.8): the budget's promise (the run ends within its bounded grace) wins over the watchdog's
 * pause, for tokens and dollars; a Director that cannot help with a watchdog escalation holds the
 * run instead of failing it; a new objective restarts the watchdog; waiting for a person spends no
 * active time; a steering message during the budget's wrap-up is delivered and buys no grace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPEATED_CALL_THRESHOLD, REPEATED_FAILURE_THRESHOLD } from '../src/workflows/watchdog';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { outcomeWithin } from './support/outcome';
import { addFile, deliver, directive, say, shell, tools, withUsage } from './support/replies';
import { sleep, until } from './support/wait';

const texts = (req: RecordedRequest): string[] =>
  (req.body.input as { content?: unknown }[]).map((i) => (typeof i.content === 'string' ? i.content : JSON.stringify(i.content ?? '')));
/** How long each approval in the budget × approval test is left waiting. */
const WAIT_MS = 5_000;

describe('where the goal meets the watchdog, approvals and steering', () => {
  let h: Harness;
  const responders = new Map<string, Responder>();
  const requestsOf = (runId: string, role: string) => h.model.requests.filter((r) => r.runId === runId && r.role === role && r.purpose === 'turn');

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responders.get(req.runId ?? '')!(req) });
  });
  afterAll(async () => h?.close());

  /** A Solver repeating `ls` (same call, same output) forever, each call `usage`; a Director that answers every time. */
  function repeatingLs(runId: string, usage: Parameters<typeof withUsage>[1]) {
    responders.set(runId, (req) =>
      req.role === 'director' ? withUsage(directive('Stop listing; write the file.'), usage) : withUsage(tools(shell('ls')), usage),
    );
  }

  it('budget × watchdog: a budget-limited Solver that is not converging ends budget_exhausted instead of being paused forever', {
    timeout: 120_000,
  }, async () => {
    const runId = uniqueId('edge-budget-watchdog');
    repeatingLs(runId, { inputTokens: 200, outputTokens: 50 });
    // Grace large enough that the watchdog's pause comes first: the budget must still win.
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', tokenBudget: 1000, budgetGraceModelCalls: 40, budgetGraceTurns: 3 });
    const outcome = await outcomeWithin(h.infty, runId, 60_000);
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status === 'budget_exhausted' && outcome.reason).toMatch(
      /token budget of 1000 reached .* and the Solver is not converging: the same call .* 5 times/,
    );
    const p = await h.infty.progress(runId);
    expect(p.events.some((e) => e.kind === 'paused')).toBe(false);
    expect(p.events.filter((e) => e.kind === 'not_converging').map((e) => e.message)).toEqual([
      expect.stringMatching(/asking the Director/),
      expect.stringMatching(/the budget is reached, so the run ends instead of pausing$/),
    ]);
    expect(requestsOf(runId, 'solver').length).toBeLessThanOrEqual(2 * REPEATED_CALL_THRESHOLD + 1);
  });

  it('cost budget × watchdog: the same with a budget in dollars', { timeout: 120_000 }, async () => {
    const runId = uniqueId('edge-cost-watchdog');
    repeatingLs(runId, { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 100 });
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', model: 'gpt-5.1', costBudgetUsd: 0.005, budgetGraceModelCalls: 40 });
    const outcome = await outcomeWithin(h.infty, runId, 60_000);
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status === 'budget_exhausted' && outcome.reason).toMatch(/cost budget of \$0\.005.* reached .* and the Solver is not converging/);
  });

  it('an invalid Director reply to a watchdog escalation holds the run with the reason; resume goes on to delivery', { timeout: 120_000 }, async () => {
    const runId = uniqueId('edge-director-invalid');
    responders.set(
      runId,
      scriptByRole({
        solver: [
          ...Array.from({ length: REPEATED_FAILURE_THRESHOLD }, () => tools(shell('exit 3'))),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
        director: [say('I am not sure.'), say('Still not sure.')],
      }),
    );
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    const goal = await until(
      'the goal to be held',
      async () => {
        const g = await h.infty.goal(runId);
        return g.status === 'paused' ? g : undefined;
      },
      60_000,
    );
    expect(goal.statusReason).toMatch(
      /^not_converging: the same call failed the same way 3 times.*; the Director could not help: the Director's reply was not a valid directive/,
    );
    expect((await h.infty.handle(runId).describe()).status.name).toBe('RUNNING');
    await h.infty.resume(runId);
    expect((await outcomeWithin(h.infty, runId, 60_000)).status).toBe('delivered');
  });

  it('objective × watchdog: a new objective starts the watchdog afresh (failures under the old one are no evidence)', { timeout: 120_000 }, async () => {
    const runId = uniqueId('edge-objective-watchdog');
    const fail = () => tools(shell('exit 3'));
    responders.set(
      runId,
      scriptByRole({
        solver: [
          fail(),
          fail(),
          async () => {
            await h.infty.setGoal(runId, { objective: 'y, a different objective' });
            return fail();
          },
          fail(),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
      }),
    );
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    expect((await outcomeWithin(h.infty, runId, 60_000)).status).toBe('delivered');
    const p = await h.infty.progress(runId);
    expect(p.events.filter((e) => e.kind === 'not_converging')).toEqual([]);
    expect(requestsOf(runId, 'director')).toHaveLength(0);
  });

  it('budget × approval wait: waiting for a person spends no active time and no grace; approved, the run goes on to its end', {
    timeout: 120_000,
  }, async () => {
    const runId = uniqueId('edge-budget-approval');
    const usage = { inputTokens: 400, outputTokens: 100 };
    const escalated = (callId: string) =>
      tools({
        name: 'shell',
        callId,
        arguments: { command: ['bash', '-c', `echo ${callId} >> f.txt`], sandbox_permissions: 'require_escalated', justification: 'fetch' },
      });
    responders.set(
      runId,
      scriptByRole({
        solver: [
          withUsage(escalated('call_active'), usage),
          withUsage(tools(shell('echo two')), usage),
          withUsage(escalated('call_limited'), usage),
          withUsage(tools(addFile('deliverable/a.txt', ['a'])), usage),
          withUsage(deliver('deliverable/a.txt'), usage),
        ],
      }),
    );
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', tokenBudget: 1000, approval: 'on-request', budgetGraceModelCalls: 3 });
    for (const [callId, status] of [
      ['call_active', 'active'],
      ['call_limited', 'budget_limited'],
    ] as const) {
      const waiting = await until(
        `${callId} to wait`,
        async () => {
          const p = await h.infty.progress(runId);
          return p.approvals?.pending.some((c) => c.callId === callId) ? p : undefined;
        },
        60_000,
      );
      expect(waiting.goal.status).toBe(status);
      await sleep(WAIT_MS);
      await h.infty.approve(runId, callId);
    }
    // Three grace model calls: the one that asked, then the patch and the delivery; the wait spent none.
    expect((await outcomeWithin(h.infty, runId, 60_000)).status).toBe('delivered');
    // A query reads the workflow's clock as of its last task, so the active time is judged at the end:
    // the two waits (2 × WAIT_MS) are not in it; the run's own work takes well under one of them.
    const { goal } = await h.infty.progress(runId);
    expect(goal.timeUsedSeconds).toBeLessThan(WAIT_MS / 1000);
  });

  it('steering × budget wrap-up: a steer sent during the grace reaches the Solver and buys no more grace', { timeout: 120_000 }, async () => {
    const runId = uniqueId('edge-steer-budget');
    const usage = { inputTokens: 400, outputTokens: 100 };
    let steps = 0;
    responders.set(runId, async () => {
      steps += 1;
      if (steps === 4) await h.infty.steer(runId, 'STEER-MARKER: finish now');
      return withUsage(tools(shell(`echo ${steps}`)), usage);
    });
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', tokenBudget: 1000, budgetGraceModelCalls: 5 });
    const outcome = await outcomeWithin(h.infty, runId, 60_000);
    expect(outcome.status).toBe('budget_exhausted');
    const solver = requestsOf(runId, 'solver');
    expect(solver.length).toBe(2 + 5); // the budget is reached with the 2nd call; 5 grace calls, not one more for the steer
    expect(solver.slice(4).some((r) => texts(r).some((t) => t.includes('STEER-MARKER')))).toBe(true);
  });
});
