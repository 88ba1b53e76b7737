import { z } from 'zod';

export type GoalStatus = 'active' | 'paused' | 'budget_limited' | 'complete';

/** docs/behaviour.md §5, program-facing (camelCase). */
export interface Goal {
  objective: string;
  status: GoalStatus;
  tokenBudget: number | null;
  tokensUsed: number;
  /** True when some model call's usage was estimated with a tokenizer (the endpoint reported none). */
  tokensEstimated: boolean;
  timeUsedSeconds: number;
  remainingTokens: number | null;
  createdAt: string;
  updatedAt: string;
  /** Why the goal is paused or limited (user, stalled, model endpoint errors), else null. */
  statusReason: string | null;
  /**
   * Cost in US dollars (docs/behaviour.md §5.2): a second budget, or null. The cost fields are
   * absent in goals stored by runs from before cost was counted.
   */
  costBudgetUsd?: number | null;
  /** Dollars spent on model calls, from the price table; null when some call's model has no known price ("price unknown"), never an invented number. */
  costUsd?: number | null;
  /** Model calls whose model has no known price: their cost is in no number, the cost budget included. */
  unpricedCalls?: number;
  /** costBudgetUsd less the dollars of the priced calls; null without a cost budget. */
  remainingCostUsd?: number | null;
}

export interface SetGoalRequest {
  status?: 'active' | 'paused';
  tokenBudget?: number | null;
  /** The cost budget in US dollars (null: none); only runs started with a cost budget take one (docs/behaviour.md §5.3). */
  costBudgetUsd?: number | null;
  /** A new objective, validated like at start (trimmed, non-empty, at most 4000 characters). */
  objective?: string;
}

export const MAX_OBJECTIVE_CHARS = 4000;

/** Dollars as shown everywhere: `$1.25`, `$0.0042`, `$0.000013` (no rounding to zero). */
export function formatUsd(usd: number): string {
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd === 0) return '$0';
  const fixed = usd >= 0.01 ? usd.toFixed(4) : usd.toFixed(6);
  const trimmed = fixed.replace(/0+$/, '').replace(/\.$/, '');
  return `$${trimmed === '0' ? usd.toPrecision(2) : trimmed}`;
}

/** The goal's statusReason while it is limited by its token budget. */
export function tokenLimitReason(tokenBudget: number | null): string {
  return `token budget of ${tokenBudget} reached`;
}

/** The goal's statusReason while it is limited by its cost budget. */
export function costLimitReason(costBudgetUsd: number | null | undefined): string {
  return `cost budget of ${costBudgetUsd == null ? 'none' : formatUsd(costBudgetUsd)} reached`;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * One rule per input (docs/interface.md §6, §8): the objective and the two budgets have one zod
 * schema and one message each, used by the CLI, the client, the run input and the setGoal update.
 */
const shown = (input: unknown): string => (typeof input === 'number' ? String(input) : JSON.stringify(input));

export const TOKEN_BUDGET_RULE = 'must be a positive whole number of tokens, or "none" for no budget';
export const COST_BUDGET_RULE = 'must be a positive number of US dollars (e.g. 5 or 0.50), or "none" for no cost budget';

const tokenBudgetError = (issue: { input?: unknown }) => `token budget ${TOKEN_BUDGET_RULE}; got ${shown(issue.input)}`;
const costBudgetError = (issue: { input?: unknown }) => `cost budget ${COST_BUDGET_RULE}; got ${shown(issue.input)}`;

/** A token budget: a positive whole number, or null (none). */
export const TokenBudgetSchema = z.number({ error: tokenBudgetError }).int({ error: tokenBudgetError }).positive({ error: tokenBudgetError }).nullable();
/** A cost budget in US dollars: a positive finite number, or null (none). */
export const CostBudgetSchema = z.number({ error: costBudgetError }).positive({ error: costBudgetError }).nullable();
/** The objective, at start and on `setGoal {objective}`: trimmed, non-empty, at most MAX_OBJECTIVE_CHARS characters. */
export const ObjectiveSchema = z
  .string({ error: 'objective must be a string' })
  .trim()
  .min(1, { error: 'objective must not be empty' })
  .max(MAX_OBJECTIVE_CHARS, { error: (issue) => `objective is ${String(issue.input).length} characters; at most ${MAX_OBJECTIVE_CHARS} are allowed` });

function checked<T>(result: z.ZodSafeParseResult<T>): Checked<T> {
  return result.success ? { ok: true, value: result.data } : { ok: false, error: result.error.issues[0]?.message ?? 'invalid' };
}

export function validateTokenBudget(budget: unknown): Checked<number | null> {
  return checked(TokenBudgetSchema.safeParse(budget ?? null));
}

export function validateCostBudget(budget: unknown): Checked<number | null> {
  return checked(CostBudgetSchema.safeParse(budget ?? null));
}

export function validateObjective(text: unknown): Checked<string> {
  return checked(ObjectiveSchema.safeParse(text));
}
