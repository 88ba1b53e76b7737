import { describe, expect, it } from 'vitest';
import { MAX_OBJECTIVE_CHARS, validateTokenBudget as validateBudget } from '../../src/protocol/goal';
import type { Usage } from '../../src/protocol/items';
import {
  accountUsage,
  applySetGoal,
  checkSetGoal,
  complete,
  endUndelivered,
  type GoalState,
  goalView,
  migrateGoal,
  newGoal,
  pause,
  resume,
  setBudget,
  tick,
  validateObjective,
} from '../../src/workflows/goal';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const usage = (inputTokens: number, cachedInputTokens = 0, outputTokens = 0, reasoningTokens = 0): Usage => ({
  inputTokens,
  cachedInputTokens,
  outputTokens,
  reasoningTokens,
});
/** A goal with `used` tokens already accounted and the given status. */
function goalWith(status: GoalState['status'], tokensUsed: number, tokenBudget: number | null): GoalState {
  // The goal owns the hold: a paused goal is one with a hold reason.
  return {
    ...newGoal('ship it', tokenBudget, T0),
    status,
    tokensUsed,
    ...(status === 'paused' ? { holdReason: 'paused by the user', statusReason: 'paused by the user' } : {}),
  };
}

describe('validateObjective', () => {
  it('trims and accepts a normal objective', () => {
    expect(validateObjective('  write a haiku \n')).toEqual({ ok: true, value: 'write a haiku' });
  });

  it.each([[''], ['   '], ['\n\t  \n']])('refuses an empty or blank objective %j', (text) => {
    const r = validateObjective(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/empty/);
  });

  it('refuses a non-string', () => {
    expect(validateObjective(42).ok).toBe(false);
    expect(validateObjective(null).ok).toBe(false);
    expect(validateObjective(undefined).ok).toBe(false);
  });

  it('accepts exactly 4000 characters (after trimming) and refuses 4001', () => {
    expect(MAX_OBJECTIVE_CHARS).toBe(4000);
    const ok = validateObjective(`  ${'a'.repeat(4000)}  `);
    expect(ok).toEqual({ ok: true, value: 'a'.repeat(4000) });
    const tooLong = validateObjective('a'.repeat(4001));
    expect(tooLong.ok).toBe(false);
    if (!tooLong.ok) expect(tooLong.error).toMatch(/4001.*4000/);
  });
});

describe('validateBudget', () => {
  it.each([[1], [10], [1_000_000]])('accepts the positive integer %j', (b) => {
    expect(validateBudget(b)).toEqual({ ok: true, value: b });
  });

  it('null and undefined mean no budget', () => {
    expect(validateBudget(null)).toEqual({ ok: true, value: null });
    expect(validateBudget(undefined)).toEqual({ ok: true, value: null });
  });

  it.each([[0], [-1], [1.5], ['10'], [Number.NaN], [Number.POSITIVE_INFINITY], [true], [{}]])('refuses %j with a reason', (b) => {
    const r = validateBudget(b);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/positive whole number/);
  });

  it('the reason quotes the refused value', () => {
    const r = validateBudget(-1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('-1');
    const s = validateBudget('10');
    if (!s.ok) expect(s.error).toContain('"10"');
  });
});

describe('newGoal', () => {
  it('starts active with nothing used', () => {
    expect(newGoal('obj', 500, T0)).toEqual({
      objective: 'obj',
      status: 'active',
      tokenBudget: 500,
      costBudgetUsd: null,
      pricedCostUsd: 0,
      unpricedCalls: 0,
      tokensUsed: 0,
      tokensEstimated: false,
      timeUsedSeconds: 0,
      clockAt: T0,
      createdAt: T0,
      updatedAt: T0,
      statusReason: null,
      holdReason: null,
    });
  });
});

describe('tick (wall-clock time counts only while active)', () => {
  it('accumulates elapsed seconds while active', () => {
    const g = tick(newGoal('o', null, T0), T0 + 2_500);
    expect(g.timeUsedSeconds).toBe(2.5);
    expect(g.clockAt).toBe(T0 + 2_500);
    expect(tick(g, T0 + 4_000).timeUsedSeconds).toBe(4);
  });

  it('does not count time while paused, budget_limited or complete, but moves the clock', () => {
    for (const status of ['paused', 'budget_limited', 'complete'] as const) {
      const g = tick(goalWith(status, 0, null), T0 + 60_000);
      expect(g.timeUsedSeconds).toBe(0);
      expect(g.clockAt).toBe(T0 + 60_000);
    }
  });

  it('never counts negative time if the clock goes backwards', () => {
    const g = tick(newGoal('o', null, T0), T0 - 10_000);
    expect(g.timeUsedSeconds).toBe(0);
  });

  it('pause stops the clock and resume restarts it from the resume instant', () => {
    let g = newGoal('o', null, T0);
    g = pause(g, 'user', T0 + 10_000); // 10 s active
    g = tick(g, T0 + 100_000); // 90 s paused: not counted
    g = resume(g, T0 + 200_000); // still paused until here
    g = tick(g, T0 + 205_000); // 5 s active
    expect(g.timeUsedSeconds).toBe(15);
  });

  it('does not mutate its input', () => {
    const g = newGoal('o', null, T0);
    const copy = structuredClone(g);
    tick(g, T0 + 5_000);
    accountUsage(g, usage(10), T0 + 5_000);
    expect(g).toEqual(copy);
  });
});

describe('accountUsage', () => {
  it('bills non-cached input plus output; reasoning (already inside output) is not added again', () => {
    const g = accountUsage(newGoal('o', null, T0), usage(1_000, 400, 200, 150), T0 + 1_000);
    expect(g.tokensUsed).toBe(1_000 - 400 + 200);
    expect(g.updatedAt).toBe(T0 + 1_000);
    expect(g.timeUsedSeconds).toBe(1);
    expect(g.status).toBe('active');
  });

  it('accumulates across calls', () => {
    let g = newGoal('o', null, T0);
    g = accountUsage(g, usage(100, 0, 10), T0);
    g = accountUsage(g, usage(300, 100, 20, 20), T0);
    expect(g.tokensUsed).toBe(110 + 220);
  });

  it('never bills negative input when the cached count exceeds the input count', () => {
    const g = accountUsage(newGoal('o', null, T0), usage(10, 50, 5), T0);
    expect(g.tokensUsed).toBe(5);
  });

  it('stays active below the budget', () => {
    const g = accountUsage(newGoal('o', 1_000, T0), usage(999), T0);
    expect(g.status).toBe('active');
    expect(g.statusReason).toBeNull();
  });

  it('becomes budget_limited exactly when tokensUsed reaches the budget', () => {
    const g = accountUsage(newGoal('o', 1_000, T0), usage(900, 0, 100), T0);
    expect(g.tokensUsed).toBe(1_000);
    expect(g.status).toBe('budget_limited');
    expect(g.statusReason).toMatch(/1000/);
  });

  it('becomes budget_limited when usage overshoots the budget', () => {
    const g = accountUsage(newGoal('o', 100, T0), usage(5_000), T0);
    expect(g.status).toBe('budget_limited');
    expect(g.tokensUsed).toBe(5_000);
  });

  it('without a budget never limits', () => {
    const g = accountUsage(newGoal('o', null, T0), usage(10_000_000), T0);
    expect(g.status).toBe('active');
  });

  it('keeps counting on a budget_limited goal (grace turns) without changing its status', () => {
    const g = accountUsage(goalWith('budget_limited', 1_000, 1_000), usage(50), T0);
    expect(g.tokensUsed).toBe(1_050);
    expect(g.status).toBe('budget_limited');
  });

  it('a paused goal that goes over budget stays paused (resume then limits it)', () => {
    const g = accountUsage(goalWith('paused', 0, 100), usage(200), T0);
    expect(g.status).toBe('paused');
    expect(resume(g, T0).status).toBe('budget_limited');
  });
});

describe('pause / resume / complete', () => {
  it('pausing an active goal records the reason', () => {
    const g = pause(newGoal('o', null, T0), 'stalled', T0 + 1_000);
    expect(g.status).toBe('paused');
    expect(g.statusReason).toBe('stalled');
    expect(g.updatedAt).toBe(T0 + 1_000);
  });

  it('pausing a budget_limited goal keeps it budget_limited', () => {
    const g = goalWith('budget_limited', 100, 100);
    expect(pause(g, 'user', T0 + 1).status).toBe('budget_limited');
  });

  it('pausing a complete goal keeps it complete', () => {
    expect(pause(goalWith('complete', 0, null), 'user', T0).status).toBe('complete');
  });

  it('resuming a paused goal within budget reactivates it and clears the reason', () => {
    const g = resume(pause(goalWith('active', 10, 100), 'user', T0), T0 + 5);
    expect(g.status).toBe('active');
    expect(g.statusReason).toBeNull();
  });

  it('resuming a paused goal whose usage reached the budget makes it budget_limited', () => {
    const g = resume(goalWith('paused', 100, 100), T0);
    expect(g.status).toBe('budget_limited');
    expect(g.statusReason).toMatch(/budget/);
  });

  it('resuming a budget_limited goal keeps it budget_limited', () => {
    expect(resume(goalWith('budget_limited', 100, 100), T0).status).toBe('budget_limited');
  });

  it('resuming a complete or active goal changes nothing', () => {
    const c = goalWith('complete', 0, null);
    expect(resume(c, T0 + 5)).toBe(c);
    const a = goalWith('active', 0, null);
    expect(resume(a, T0 + 5)).toBe(a);
  });

  it('complete marks the goal complete and stops the clock', () => {
    let g = complete(newGoal('o', null, T0), T0 + 3_000);
    expect(g.status).toBe('complete');
    expect(g.timeUsedSeconds).toBe(3);
    g = tick(g, T0 + 100_000);
    expect(g.timeUsedSeconds).toBe(3);
  });
});

describe('setBudget', () => {
  it('raising the budget above usage reactivates a budget_limited goal', () => {
    const g = setBudget(goalWith('budget_limited', 1_000, 1_000), 2_000, T0 + 1);
    expect(g.status).toBe('active');
    expect(g.tokenBudget).toBe(2_000);
    expect(g.statusReason).toBeNull();
    expect(g.updatedAt).toBe(T0 + 1);
  });

  it('removing the budget reactivates a budget_limited goal', () => {
    expect(setBudget(goalWith('budget_limited', 1_000, 1_000), null, T0).status).toBe('active');
  });

  it('raising it to exactly the usage keeps the goal budget_limited', () => {
    expect(setBudget(goalWith('budget_limited', 1_000, 500), 1_000, T0).status).toBe('budget_limited');
  });

  it('lowering the budget to the usage limits an active goal', () => {
    const g = setBudget(goalWith('active', 500, 10_000), 500, T0);
    expect(g.status).toBe('budget_limited');
    expect(g.statusReason).toMatch(/500/);
  });

  it('lowering the budget below the usage limits an active goal', () => {
    expect(setBudget(goalWith('active', 500, 10_000), 100, T0).status).toBe('budget_limited');
  });

  it('lowering it while still above usage keeps the goal active', () => {
    expect(setBudget(goalWith('active', 500, 10_000), 501, T0).status).toBe('active');
  });

  it('a paused goal stays paused whatever the budget', () => {
    expect(setBudget(goalWith('paused', 500, 10_000), 100, T0).status).toBe('paused');
    expect(setBudget(goalWith('paused', 500, 100), 10_000, T0).status).toBe('paused');
  });
});

describe('checkSetGoal', () => {
  const active = goalWith('active', 0, null);

  it.each([[null], [undefined], ['paused'], [42], [[{ status: 'paused' }]]])('refuses a non-object %j', (req) => {
    const r = checkSetGoal(active, req);
    expect(r.ok).toBe(false);
  });

  it('refuses unknown fields and names them', () => {
    const r = checkSetGoal(active, { status: 'paused', budget: 10, goal: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain('unknown field(s) budget, goal; allowed: status, tokenBudget, costBudgetUsd, objective');
    }
  });

  it.each([
    ['', 'objective must not be empty'],
    ['   \n ', 'objective must not be empty'],
    [42, 'objective must be a string'],
    [null, 'objective must be a string'],
    ['x'.repeat(MAX_OBJECTIVE_CHARS + 1), `objective is ${MAX_OBJECTIVE_CHARS + 1} characters; at most ${MAX_OBJECTIVE_CHARS} are allowed`],
  ])('refuses objective %j with the reason', (objective, reason) => {
    expect(checkSetGoal(active, { objective, status: 'paused' })).toEqual({ ok: false, error: reason });
  });

  it('accepts a new objective, trimmed; changing it keeps the accounting, status and hold', () => {
    expect(checkSetGoal(active, { objective: '  New goal \n' })).toEqual({ ok: true, value: { objective: 'New goal' } });
    expect(checkSetGoal(active, { objective: 'x'.repeat(MAX_OBJECTIVE_CHARS) }).ok).toBe(true);
    const limited = goalWith('budget_limited', 500, 100);
    const next = applySetGoal(limited, { objective: 'Other' }, T0 + 1_000);
    expect(next).toMatchObject({ objective: 'Other', status: 'budget_limited', tokensUsed: 500, tokenBudget: 100, updatedAt: T0 + 1_000 });
    const paused = pause(newGoal('o', null, T0), 'paused by the user', T0);
    expect(applySetGoal(paused, { objective: 'p' }, T0 + 5)).toMatchObject({ objective: 'p', status: 'paused', holdReason: 'paused by the user' });
    // The same objective changes nothing (not even updatedAt).
    expect(applySetGoal(paused, { objective: 'o' }, T0 + 5)).toBe(paused);
    expect(checkSetGoal(goalWith('complete', 0, null), { objective: 'y' })).toMatchObject({ ok: false });
  });

  it.each([['complete'], ['budget_limited'], ['ACTIVE'], [1], [null]])('refuses status %j', (status) => {
    const r = checkSetGoal(active, { status });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/status/);
  });

  it.each([[0], [-5], [2.5], ['100']])('refuses tokenBudget %j', (tokenBudget) => {
    const r = checkSetGoal(active, { tokenBudget });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/budget/);
  });

  it('refuses any change to a complete goal', () => {
    const done = goalWith('complete', 0, null);
    for (const req of [{ status: 'active' }, { status: 'paused' }, { tokenBudget: 10 }, {}]) {
      const r = checkSetGoal(done, req);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/complete/);
    }
  });

  it('accepts valid requests and returns only the given fields', () => {
    expect(checkSetGoal(active, {})).toEqual({ ok: true, value: {} });
    expect(checkSetGoal(active, { status: 'paused' })).toEqual({ ok: true, value: { status: 'paused' } });
    expect(checkSetGoal(active, { status: 'active' })).toEqual({ ok: true, value: { status: 'active' } });
    expect(checkSetGoal(active, { tokenBudget: 5_000 })).toEqual({ ok: true, value: { tokenBudget: 5_000 } });
    expect(checkSetGoal(active, { tokenBudget: null })).toEqual({ ok: true, value: { tokenBudget: null } });
    expect(checkSetGoal(active, { status: 'paused', tokenBudget: 7 })).toEqual({
      ok: true,
      value: { status: 'paused', tokenBudget: 7 },
    });
  });

  it('accepts changes to paused and budget_limited goals', () => {
    expect(checkSetGoal(goalWith('paused', 0, null), { status: 'active' }).ok).toBe(true);
    expect(checkSetGoal(goalWith('budget_limited', 10, 10), { tokenBudget: 20 }).ok).toBe(true);
  });
});

describe('applySetGoal', () => {
  it('pauses an active goal on behalf of the user', () => {
    const g = applySetGoal(goalWith('active', 0, null), { status: 'paused' }, T0 + 1);
    expect(g.status).toBe('paused');
    expect(g.statusReason).toMatch(/user/);
  });

  it("keeps a held goal's own reason when the user pauses it too", () => {
    const stalled = pause(goalWith('active', 0, null), 'stalled: the Solver stopped', T0);
    expect(applySetGoal(stalled, { status: 'paused' }, T0 + 1)).toMatchObject({ status: 'paused', holdReason: 'stalled: the Solver stopped' });
  });

  it('resumes a paused goal', () => {
    expect(applySetGoal(goalWith('paused', 0, null), { status: 'active' }, T0).status).toBe('active');
  });

  it('raises the budget and resumes in one request', () => {
    const g = applySetGoal(goalWith('paused', 1_000, 1_000), { status: 'active', tokenBudget: 5_000 }, T0);
    expect(g.status).toBe('active');
    expect(g.tokenBudget).toBe(5_000);
  });

  it('resuming with a budget at or below usage leaves the goal budget_limited', () => {
    const g = applySetGoal(goalWith('paused', 1_000, null), { status: 'active', tokenBudget: 1_000 }, T0);
    expect(g.status).toBe('budget_limited');
  });

  it('raising the budget of a budget_limited goal reactivates it', () => {
    expect(applySetGoal(goalWith('budget_limited', 1_000, 1_000), { tokenBudget: 1_001 }, T0).status).toBe('active');
  });

  it('clears the budget with tokenBudget null', () => {
    const g = applySetGoal(goalWith('active', 10, 100), { tokenBudget: null }, T0);
    expect(g.tokenBudget).toBeNull();
    expect(g.status).toBe('active');
  });

  it('an empty request leaves the goal as it is', () => {
    const g = goalWith('active', 10, 100);
    expect(applySetGoal(g, {}, T0 + 1)).toEqual(g);
  });

  it('a budget-only request does not touch the status of a paused goal', () => {
    const g = applySetGoal(goalWith('paused', 10, 100), { tokenBudget: 1_000 }, T0);
    expect(g.status).toBe('paused');
    expect(g.tokenBudget).toBe(1_000);
  });
});

describe('goalView', () => {
  it('reports remaining tokens, ISO dates, and time brought up to now', () => {
    let g = newGoal('the objective', 1_000, T0);
    g = accountUsage(g, usage(300, 0, 50), T0 + 2_000);
    const view = goalView(g, T0 + 12_345);
    expect(view).toEqual({
      objective: 'the objective',
      status: 'active',
      tokenBudget: 1_000,
      tokensUsed: 350,
      tokensEstimated: false,
      timeUsedSeconds: 12.3,
      remainingTokens: 650,
      // A call accounted without a price is an unpriced call: the cost is unknown, never 0.
      costBudgetUsd: null,
      costUsd: null,
      remainingCostUsd: null,
      unpricedCalls: 1,
      createdAt: '2025-01-02T03:04:05.000Z',
      updatedAt: '2025-01-02T03:04:07.000Z',
      statusReason: null,
    });
  });

  it('rounds time to a tenth of a second', () => {
    const g = newGoal('o', null, T0);
    expect(goalView(g, T0 + 12_360).timeUsedSeconds).toBe(12.4);
    expect(goalView(g, T0 + 12_340).timeUsedSeconds).toBe(12.3);
    expect(goalView(g, T0 + 49).timeUsedSeconds).toBe(0);
  });

  it('remainingTokens is null without a budget and never negative', () => {
    expect(goalView(newGoal('o', null, T0), T0).remainingTokens).toBeNull();
    const over = accountUsage(newGoal('o', 100, T0), usage(500), T0);
    const view = goalView(over, T0);
    expect(view.remainingTokens).toBe(0);
    expect(view.status).toBe('budget_limited');
    expect(view.statusReason).toMatch(/budget/);
  });

  it('does not count time for a paused goal and does not change the state', () => {
    const g = pause(newGoal('o', null, T0), 'user', T0 + 1_000);
    const copy = structuredClone(g);
    expect(goalView(g, T0 + 99_000).timeUsedSeconds).toBe(1);
    expect(g).toEqual(copy);
  });

  it('is plain JSON (query result)', () => {
    const view = goalView(newGoal('o', 5, T0), T0 + 1);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});

describe('the goal owns the hold', () => {
  it('a held budget-limited goal whose budget is raised is paused, and no time counts while held', () => {
    let g = accountUsage(newGoal('o', 100, T0), usage(100), T0 + 1_000);
    expect(g.status).toBe('budget_limited');
    g = pause(g, 'paused by the user', T0 + 2_000);
    expect(g.status).toBe('budget_limited');
    const before = g.timeUsedSeconds;
    g = setBudget(g, 1_000, T0 + 3_000);
    expect(g.status).toBe('paused');
    expect(tick(g, T0 + 60_000).timeUsedSeconds).toBe(before);
    g = resume(g, T0 + 60_000);
    expect(g.status).toBe('active');
    expect(g.holdReason).toBeNull();
  });

  it('a run that ended undelivered leaves its goal paused (or budget-limited) with the reason, never active', () => {
    const failed = endUndelivered(newGoal('o', null, T0), 'failed', 'boom', T0 + 1);
    expect(failed.status).toBe('paused');
    expect(failed.statusReason).toBe('the run ended failed: boom');
    const limited = accountUsage(newGoal('o', 10, T0), usage(10), T0 + 1);
    expect(endUndelivered(limited, 'budget_exhausted', 'spent', T0 + 2).status).toBe('budget_limited');
    expect(endUndelivered(complete(limited, T0 + 2), 'failed', 'x', T0 + 3).status).toBe('complete');
  });

  it('a goal carried from a run started before the goal owned the hold keeps that hold', () => {
    const legacy = { ...newGoal('o', 100, T0), status: 'budget_limited' as const } as Partial<GoalState>;
    delete legacy.holdReason;
    delete legacy.tokensEstimated;
    const migrated = migrateGoal(legacy as GoalState, 'model endpoint failing');
    expect(migrated.holdReason).toBe('model endpoint failing');
    expect(migrated.tokensEstimated).toBe(false);
    const pausedLegacy = { ...legacy, status: 'paused' as const, statusReason: 'paused by the user' } as GoalState;
    expect(migrateGoal(pausedLegacy, null).holdReason).toBe('paused by the user');
    expect(migrateGoal(newGoal('o', null, T0), 'ignored').holdReason).toBeNull();
  });

  it('usage estimated by a tokenizer marks the goal', () => {
    expect(accountUsage(newGoal('o', null, T0), { ...usage(10), estimated: true }, T0).tokensEstimated).toBe(true);
  });
});
