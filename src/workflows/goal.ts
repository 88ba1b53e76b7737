/** The goal state machine and its accounting (docs/behaviour.md §5). Pure functions: no I/O, no clock. */
import type { Goal, SetGoalRequest } from '../protocol/goal';
import { type Checked, costLimitReason, formatUsd, tokenLimitReason, validateCostBudget, validateObjective, validateTokenBudget } from '../protocol/goal';
import { billableTokens, type Usage } from '../protocol/items';
import type { HoldKind, RunHold } from '../protocol/progress';

export { type Checked, validateObjective };

/**
 * Internal goal state: the public Goal (less the derived `remainingTokens`, with epoch-ms times)
 * plus the instant the active clock was last read, and the hold. `timeUsedSeconds` counts up to
 * `clockAt`. The goal is the one owner of "paused" and of active time: a run is held exactly while
 * `holdReason` is set, and time counts only while the status is `active` (never while held).
 */
export interface GoalState extends Omit<Goal, 'remainingTokens' | 'createdAt' | 'updatedAt' | 'costUsd' | 'remainingCostUsd'> {
  /**
   * Dollars of the priced model calls (docs/behaviour.md §5.2); the cost budget counts these. The
   * cost fields are absent in goals carried over from runs started before cost was counted.
   */
  pricedCostUsd?: number;
  /** Epoch ms when the time counter was last brought up to date. */
  clockAt: number;
  createdAt: number;
  updatedAt: number;
  /** Why the run is held (user pause, stalled Solver, failing endpoint, run ended); null while it may work. */
  holdReason: string | null;
  /** Who can release the hold (docs/behaviour.md §5.4); absent in goals held before kinds were recorded: `other`. */
  holdKind?: HoldKind;
  /** A tool call waits for a person (docs/behaviour.md §7.8): the active clock stands still; absent: false. */
  awaitingPerson?: boolean;
}

export function newGoal(objective: string, tokenBudget: number | null, now: number, costBudgetUsd: number | null = null): GoalState {
  return {
    objective,
    status: 'active',
    tokenBudget,
    costBudgetUsd,
    tokensUsed: 0,
    pricedCostUsd: 0,
    unpricedCalls: 0,
    tokensEstimated: false,
    timeUsedSeconds: 0,
    clockAt: now,
    createdAt: now,
    updatedAt: now,
    statusReason: null,
    holdReason: null,
  };
}

/** A goal carried over from a run started before the goal owned the hold (it lived in the run state). */
export function migrateGoal(g: GoalState, legacyHold: string | null | undefined): GoalState {
  if (g.holdReason !== undefined) return g;
  const holdReason = legacyHold ?? (g.status === 'paused' ? (g.statusReason ?? 'paused') : null);
  return { ...g, tokensEstimated: g.tokensEstimated ?? false, holdReason };
}

/** Bring the wall-clock counter up to `now` (time only counts while active, and not while a person is awaited). */
export function tick(g: GoalState, now: number): GoalState {
  const elapsed = g.status === 'active' && !g.awaitingPerson ? Math.max(0, now - g.clockAt) / 1000 : 0;
  return { ...g, timeUsedSeconds: g.timeUsedSeconds + elapsed, clockAt: now };
}

/** A tool call starts (true) or stops (false) waiting for a person: the active clock stops, or goes on from `now`. */
export function awaitPerson(g: GoalState, waiting: boolean, now: number): GoalState {
  const { awaitingPerson: _was, ...rest } = tick(g, now);
  return waiting ? { ...rest, awaitingPerson: true } : rest;
}

function overTokenBudget(g: GoalState): boolean {
  return g.tokenBudget !== null && g.tokensUsed >= g.tokenBudget;
}

/** Only a run started with a cost budget has one (behind isPatched('costBudget'), src/workflows/run.ts). */
function overCostBudget(g: GoalState): boolean {
  return g.costBudgetUsd != null && (g.pricedCostUsd ?? 0) >= g.costBudgetUsd;
}

/** One rule for both budgets: the goal is limited when either is reached. */
function overBudget(g: GoalState): boolean {
  return overTokenBudget(g) || overCostBudget(g);
}

/**
 * What was reached and how much was used, for events, the run's end and the limit message:
 * `token budget of 1000 reached (1200 used)`, `cost budget of $0.50 reached ($0.51 spent)`.
 */
export function budgetReached(g: GoalState): string {
  if (!overTokenBudget(g) && overCostBudget(g)) return `${costLimitReason(g.costBudgetUsd)} (${formatUsd(g.pricedCostUsd ?? 0)} spent)`;
  return `${tokenLimitReason(g.tokenBudget)} (${g.tokensUsed} used)`;
}

/** Whether the cost budget (not the token budget) is what limits the goal. */
export function limitedByCost(g: GoalState): boolean {
  return !overTokenBudget(g) && overCostBudget(g);
}

/**
 * The status that follows from budget and hold (complete is final). Call after `tick`. A held goal
 * is paused, except that a budget-limited one keeps that status while it is still over budget.
 */
function settle(g: GoalState): GoalState {
  if (g.status === 'complete') return g;
  const limitReason = limitedByCost(g) ? costLimitReason(g.costBudgetUsd) : tokenLimitReason(g.tokenBudget);
  if (g.holdReason !== null) {
    const status = g.status === 'budget_limited' && overBudget(g) ? 'budget_limited' : 'paused';
    return { ...g, status, statusReason: g.holdReason };
  }
  if (overBudget(g)) return { ...g, status: 'budget_limited', statusReason: limitReason };
  return { ...g, status: 'active', statusReason: null };
}

export function isHeld(g: GoalState): boolean {
  return g.holdReason !== null;
}

/** The hold as clients see it, null while the run may work. */
export function holdView(g: GoalState): RunHold | null {
  return g.holdReason === null ? null : { kind: g.holdKind ?? 'other', reason: g.holdReason };
}

/**
 * Account one model call; an active goal that reaches a budget becomes budget_limited. `costUsd`:
 * the call's dollars from the price table, null when its model has no known price.
 */
export function accountUsage(g: GoalState, usage: Usage, now: number, costUsd: number | null = null): GoalState {
  const t = tick(g, now);
  return settle({
    ...t,
    tokensUsed: t.tokensUsed + billableTokens(usage),
    tokensEstimated: t.tokensEstimated || usage.estimated === true,
    pricedCostUsd: (t.pricedCostUsd ?? 0) + (costUsd ?? 0),
    unpricedCalls: (t.unpricedCalls ?? 0) + (costUsd === null ? 1 : 0),
    updatedAt: now,
  });
}

/** Holds the run: no new model call starts. A budget-limited goal keeps that status while held. */
export function pause(g: GoalState, reason: string, now: number, kind: HoldKind = 'other'): GoalState {
  if (g.status === 'complete') return g;
  return settle({ ...tick(g, now), holdReason: reason, holdKind: kind, updatedAt: now });
}

export function resume(g: GoalState, now: number): GoalState {
  if (g.status === 'complete' || (g.holdReason === null && g.status !== 'paused')) return g;
  const { holdKind: _released, ...rest } = tick(g, now);
  return settle({ ...rest, holdReason: null, updatedAt: now });
}

export function complete(g: GoalState, now: number): GoalState {
  const { holdKind: _released, ...rest } = tick(g, now);
  return { ...rest, status: 'complete', statusReason: null, holdReason: null, updatedAt: now };
}

/** A run that ended other than delivered never leaves its goal active. */
export function endUndelivered(g: GoalState, outcome: string, reason: string, now: number): GoalState {
  if (g.status === 'complete') return g;
  return settle({ ...tick(g, now), holdReason: `the run ended ${outcome}: ${reason}`, holdKind: 'ended', updatedAt: now });
}

/** Raising the budget above usage reactivates a budget-limited goal; lowering it to usage limits it. */
export function setBudget(g: GoalState, budget: number | null, now: number): GoalState {
  if (g.status === 'complete') return g;
  return settle({ ...tick(g, now), tokenBudget: budget, updatedAt: now });
}

/** The same for the cost budget (dollars). */
export function setCostBudget(g: GoalState, budget: number | null, now: number): GoalState {
  if (g.status === 'complete') return g;
  return settle({ ...tick(g, now), costBudgetUsd: budget, updatedAt: now });
}

/** Validates a setGoal update against the current goal; the error says why it is refused. */
export function checkSetGoal(g: GoalState, req: unknown): Checked<SetGoalRequest> {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return {
      ok: false,
      error: 'setGoal takes an object {status?: "active"|"paused", tokenBudget?: number|null, costBudgetUsd?: number|null, objective?: string}',
    };
  }
  const r = req as Record<string, unknown>;
  const unknownKeys = Object.keys(r).filter((k) => !SET_GOAL_FIELDS.includes(k));
  if (unknownKeys.length) return { ok: false, error: `unknown field(s) ${unknownKeys.join(', ')}; allowed: ${SET_GOAL_FIELDS.join(', ')}` };
  if (r.status !== undefined && r.status !== 'active' && r.status !== 'paused') {
    return { ok: false, error: `status must be "active" or "paused", got ${JSON.stringify(r.status)}` };
  }
  if (g.status === 'complete') return { ok: false, error: 'the goal is complete; it can no longer change' };
  const out: SetGoalRequest = {};
  if (r.status !== undefined) out.status = r.status as 'active' | 'paused';
  if ('tokenBudget' in r) {
    const b = validateTokenBudget(r.tokenBudget);
    if (!b.ok) return b;
    out.tokenBudget = b.value;
  }
  if ('costBudgetUsd' in r) {
    const b = validateCostBudget(r.costBudgetUsd);
    if (!b.ok) return b;
    out.costBudgetUsd = b.value;
  }
  if ('objective' in r) {
    const o = validateObjective(r.objective);
    if (!o.ok) return o;
    out.objective = o.value;
  }
  return { ok: true, value: out };
}

const SET_GOAL_FIELDS = ['status', 'tokenBudget', 'costBudgetUsd', 'objective'];

/** A new objective (already validated); the accounting, status and hold are unchanged. */
export function setObjective(g: GoalState, objective: string, now: number): GoalState {
  if (g.status === 'complete' || g.objective === objective) return g;
  return { ...tick(g, now), objective, updatedAt: now };
}

export function applySetGoal(g: GoalState, req: SetGoalRequest, now: number): GoalState {
  let next = g;
  if (req.objective !== undefined) next = setObjective(next, req.objective, now);
  if ('tokenBudget' in req) next = setBudget(next, req.tokenBudget ?? null, now);
  if ('costBudgetUsd' in req) next = setCostBudget(next, req.costBudgetUsd ?? null, now);
  // A held run keeps its own reason (a stalled Solver, a failing endpoint): the user's pause adds nothing.
  if (req.status === 'paused' && next.holdReason === null) next = pause(next, 'paused by the user', now, 'user');
  if (req.status === 'active') next = resume(next, now);
  return next;
}

export function goalView(g: GoalState, now: number): Goal {
  const t = tick(g, now);
  return {
    objective: t.objective,
    status: t.status,
    tokenBudget: t.tokenBudget,
    tokensUsed: t.tokensUsed,
    tokensEstimated: t.tokensEstimated,
    timeUsedSeconds: Math.round(t.timeUsedSeconds * 10) / 10,
    remainingTokens: t.tokenBudget === null ? null : Math.max(0, t.tokenBudget - t.tokensUsed),
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    statusReason: t.statusReason,
    costBudgetUsd: t.costBudgetUsd ?? null,
    costUsd: (t.unpricedCalls ?? 0) > 0 ? null : (t.pricedCostUsd ?? 0),
    unpricedCalls: t.unpricedCalls ?? 0,
    remainingCostUsd: t.costBudgetUsd == null ? null : Math.max(0, t.costBudgetUsd - (t.pricedCostUsd ?? 0)),
  };
}
