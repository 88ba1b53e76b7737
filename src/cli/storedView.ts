/**
 * What Temporal keeps of a run without a worker (docs/interface.md §1 "Without a worker"): the
 * goal in the memo as of its last change of objective, status or budget, the search attributes
 * (goal status, phase, tokens used as of the last model call), and the result of a closed run.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { Goal } from '../protocol/goal';
import { GOAL_MEMO_KEY, GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from '../protocol/names';

export interface StoredView {
  goal: Goal | undefined;
  phase: string | undefined;
}

export function storedView(d: WorkflowExecutionDescription): StoredView {
  const sa = d.typedSearchAttributes;
  const memoGoal = d.memo?.[GOAL_MEMO_KEY] as Goal | undefined;
  const tokensUsed = sa.get(TOKENS_USED_KEY);
  const status = sa.get(GOAL_STATUS_KEY);
  let goal: Goal | undefined;
  if (memoGoal) {
    const used = Math.max(memoGoal.tokensUsed, tokensUsed ?? 0);
    goal = {
      ...memoGoal,
      ...(status ? { status: status as Goal['status'] } : {}),
      tokensUsed: used,
      remainingTokens: memoGoal.tokenBudget === null ? null : Math.max(0, memoGoal.tokenBudget - used),
      // The memo's dollars are as of the goal's last change, not the last model call: not shown as current.
      costUsd: undefined,
      unpricedCalls: undefined,
      remainingCostUsd: undefined,
    };
  }
  return { goal, phase: sa.get(PHASE_KEY) };
}

/** The line that says where a worker-less answer came from. */
export const STORED_NOTE =
  'shown is what Temporal stores (the goal as of its last change, tokens as of the last model call); live progress needs a worker: infty worker';
