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
}

export const MAX_OBJECTIVE_CHARS = 4000;
