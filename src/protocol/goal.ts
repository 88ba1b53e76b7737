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
}

export interface SetGoalRequest {
  status?: 'active' | 'paused';
  tokenBudget?: number | null;
  /** A new objective, validated like at start (trimmed, non-empty, at most 4000 characters). */
  objective?: string;
}

export const MAX_OBJECTIVE_CHARS = 4000;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** The objective rule, at start and on `setGoal {objective}`: trimmed, non-empty, at most 4000 characters. */
export function validateObjective(text: unknown): Checked<string> {
  if (typeof text !== 'string') return { ok: false, error: 'objective must be a string' };
  const value = text.trim();
  if (!value) return { ok: false, error: 'objective must not be empty' };
  if (value.length > MAX_OBJECTIVE_CHARS) {
    return { ok: false, error: `objective is ${value.length} characters; at most ${MAX_OBJECTIVE_CHARS} are allowed` };
  }
  return { ok: true, value };
}
