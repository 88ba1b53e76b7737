/** The run's current details for the Temporal Web UI (src/workflows/details.ts): pure markdown from the state. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/protocol/progress';
import { currentDetails, DETAIL_EVENTS, duration } from '../../src/workflows/details';
import { accountUsage, complete, newGoal, pause } from '../../src/workflows/goal';
import { newRoleStats, type RunState } from '../../src/workflows/state';
import { toolCallDetail } from '../../src/workflows/summaries';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

function state(over: Partial<RunState> = {}): RunState {
  return {
    runDir: '/runs/r',
    sandbox: 'none',
    models: { solver: 'm' },
    createdAt: new Date(T0).toISOString(),
    goal: newGoal('Write a haiku', 10_000, T0),
    roles: { solver: { generation: 0, committedLength: 3, compactionDue: false, stats: newRoleStats('m') } },
    phase: 'solving',
    activeRole: 'solver',
    events: [],
    lastEventSeq: 0,
    plan: { explanation: null, steps: [] },
    verificationRounds: 0,
    continueAsNewCount: 0,
    pendingSolverItems: [],
    pendingSchema: 'solver_signal',
    turnToolCalls: 0,
    turnSteps: 0,
    idleStage: 0,
    malformedStreak: 0,
    invalidDeliveryStreak: 0,
    budgetNoticeSent: false,
    graceTurnsUsed: 0,
    graceModelCalls: 0,
    steerQueue: [],
    objectiveUpdatePending: false,
    ...over,
  };
}

const event = (seq: number, kind: RunEvent['kind'], message: string, role?: string): RunEvent => ({
  seq,
  at: new Date(T0 + seq * 1000).toISOString(),
  kind,
  ...(role ? { role } : {}),
  message,
});

describe('currentDetails', () => {
  it('shows the phase, the active role, the goal with tokens used of the budget, and active time', () => {
    const goal = accountUsage(
      newGoal('Write a haiku', 10_000, T0),
      { inputTokens: 1_200, cachedInputTokens: 0, outputTokens: 34, reasoningTokens: 0 },
      T0 + 5_000,
    );
    const md = currentDetails(state({ goal }), T0 + 65_000);
    expect(md).toContain('**Phase:** solving · **active role:** solver');
    expect(md).toContain('**Goal:** active · **tokens used:** 1,234 of 10,000 (12%) · **cost:** price unknown (1 call(s)) · **active time:** 1m 05s');
    expect(md).toContain('**Verification rounds:** 0');
    expect(md).not.toContain('Recent events');
  });

  it('is deterministic: the same state and time give the same text', () => {
    const s = state({ events: [event(1, 'run_started', 'run r started')] });
    expect(currentDetails(s, T0 + 1)).toBe(currentDetails(structuredClone(s), T0 + 1));
  });

  it('shows why the goal is held, the verification rounds, the plan and the outcome', () => {
    const held = currentDetails(
      state({ goal: pause(newGoal('x', null, T0), 'paused by the user', T0), phase: 'paused', verificationRounds: 2, continueAsNewCount: 1 }),
      T0,
    );
    expect(held).toContain('**Goal:** paused · **tokens used:** 0 (no budget)');
    expect(held).toContain('**Why:** paused by the user');
    expect(held).toContain('**Verification rounds:** 2 · **continued as new:** 1×');
    const planned = currentDetails(
      state({
        plan: {
          explanation: null,
          steps: [
            { step: 'Draft', status: 'completed' },
            { step: 'Write the files', status: 'in_progress' },
            { step: 'Deliver', status: 'pending' },
          ],
        },
      }),
      T0,
    );
    expect(planned).toContain('**Plan:** 1 of 3 steps done · now: Write the files');
    const done = currentDetails(
      state({
        goal: complete(newGoal('x', null, T0), T0),
        phase: 'finished',
        activeRole: null,
        outcome: { runId: 'r', status: 'failed', reason: 'the Director did not reply' },
      }),
      T0,
    );
    expect(done).toContain('**Phase:** finished');
    expect(done).not.toContain('active role');
    expect(done).toContain('**Outcome:** failed — the Director did not reply');
  });

  it('lists the last few events, newest last, on one line each, with markdown escaped', () => {
    // As src/workflows/roleTurn.ts records a call: the message abbreviated, the tool and its detail from the full arguments.
    const call = (seq: number, name: string, args: string): RunEvent => ({
      ...event(seq, 'tool_call', `${name} ${args.slice(0, 160)}…`, 'solver'),
      tool: { name, detail: toolCallDetail(name, args) },
    });
    const events = Array.from({ length: 20 }, (_, i) => call(i + 1, 'shell', `{"command":["bash","-lc","echo ${i}"]}`));
    events.push(call(20.5, 'apply_patch', JSON.stringify({ input: `*** Begin Patch\n*** Add File: a_b.md\n+${'x'.repeat(300)}\n*** End Patch` })));
    // An event recorded before events carried the tool is shown as its message.
    events.push(event(20.7, 'tool_call', 'read_file {"path":"old.md"}', 'solver'));
    events.push(event(21, 'verdict', `fail: *bold* <script>alert(1)</script>\nsecond line ${'x'.repeat(500)}`, 'verifier-beta'));
    const md = currentDetails(state({ events }), T0);
    const list = md
      .slice(md.indexOf('**Recent events**'))
      .split('\n')
      .filter((l) => l.startsWith('- '));
    expect(list).toHaveLength(DETAIL_EVENTS);
    expect(list[0]).toBe('- 03:04:23 solver · shell: echo 17'); // a tool call as its activity summary says it
    expect(list[3]).toBe('- 03:04:25 solver · apply\\_patch: a\\_b.md');
    expect(list[4]).toBe('- 03:04:25 solver · tool\\_call: read\\_file {"path":"old.md"}');
    const last = list[list.length - 1]!;
    expect(last.startsWith('- 03:04:26 verifier-beta · verdict: fail: \\*bold\\* \\<script\\>alert(1)\\</script\\> second line xxx')).toBe(true);
    expect(last.endsWith('…')).toBe(true);
    expect(last.length).toBeLessThan(260);
  });

  it('stays small whatever the state holds', () => {
    const events = Array.from({ length: 200 }, (_, i) => event(i, 'solver_message', '漢'.repeat(2000), 'solver'));
    const md = currentDetails(state({ events, goal: pause(newGoal('x', 5, T0), 'r'.repeat(10_000), T0) }), T0);
    expect(md.length).toBeLessThan(3_000);
  });

  it('duration formats active time', () => {
    expect(duration(7.9)).toBe('7s');
    expect(duration(65)).toBe('1m 05s');
    expect(duration(3725)).toBe('1h 02m 05s');
    expect(duration(-3)).toBe('0s');
  });
});
