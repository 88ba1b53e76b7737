/**
 * What clients see of a run (docs/interface.md §7, §11): the progress query's answer, the Web UI's
 * current details, the search attributes and the goal memo. Deterministic: it runs in the workflow,
 * and it only upserts when what it shows changed.
 */
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { ApprovalsView } from '../protocol/approval';
import { GOAL_MEMO_KEY, GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from '../protocol/names';
import type { Phase, Progress } from '../protocol/progress';
import { type RunInput, reasoningEffortFor } from '../protocol/runInput';
import { currentDetails } from './details';
import { goalView, holdView } from './goal';
import { isPatched } from './patches';
import type { RunState } from './state';

/** The phase users see: waiting for the owner worker overrides what the run is doing. */
export function visiblePhase(state: RunState): Phase {
  return state.waitingForWorker ? 'waiting_for_worker' : state.phase;
}

/** The approval policy, what waits for a person and the last decisions (docs/behaviour.md §7.8). */
export function approvalsView(input: RunInput, state: RunState): ApprovalsView {
  const a = state.approvals;
  return { policy: input.approval, timeoutSecs: input.approvalTimeoutSecs ?? null, pending: a?.pending ?? [], decided: a?.decided ?? [] };
}

/** A role's dollars: null ("price unknown") when any of its calls had no known price. */
export function roleCostUsd(st: { pricedCostUsd?: number; unpricedCalls?: number }): number | null {
  return (st.unpricedCalls ?? 0) > 0 ? null : (st.pricedCostUsd ?? 0);
}

export class RunView {
  private lastAttributes = '';
  private lastGoalMemo = '';

  sync(state: RunState, now: number): void {
    setCurrentDetails(currentDetails(state, now)); // the Web UI's current details (no command)
    const goalStatus = state.goal.status;
    const phase = visiblePhase(state);
    const tokens = state.goal.tokensUsed;
    this.syncGoalMemo(state, now);
    const key = `${goalStatus}|${phase}|${tokens}`;
    if (key === this.lastAttributes) return;
    this.lastAttributes = key;
    upsertSearchAttributes([
      { key: GOAL_STATUS_KEY, value: goalStatus },
      { key: PHASE_KEY, value: phase },
      { key: TOKENS_USED_KEY, value: tokens },
    ]);
  }

  /**
   * The goal as of its last change of objective, status or budget, in the execution's memo, so
   * `infty goal` and `infty show` can answer without a worker (docs/architecture.md decision 15).
   * Token counts change with every model call and are the search attributes' job.
   */
  private syncGoalMemo(state: RunState, now: number): void {
    const g = state.goal;
    const key = JSON.stringify([g.objective, g.status, g.statusReason, g.tokenBudget, g.costBudgetUsd ?? null]);
    if (key === this.lastGoalMemo) return;
    this.lastGoalMemo = key;
    if (isPatched('goalMemo')) upsertMemo({ [GOAL_MEMO_KEY]: goalView(g, now) });
  }

  progress(input: RunInput, state: RunState, now: number): Progress {
    const roles: Progress['roles'] = {};
    for (const [name, r] of Object.entries(state.roles)) {
      roles[name] = { ...r.stats, generation: r.generation, reasoningEffort: reasoningEffortFor(input, name) ?? null, costUsd: roleCostUsd(r.stats) };
    }
    return {
      runId: input.runId,
      status: state.outcome ? state.outcome.status : 'running',
      phase: visiblePhase(state),
      owner: state.owner ?? null,
      waitingForWorker: state.waitingForWorker ?? null,
      activeRole: state.activeRole,
      forkOf: input.forkOf ? { runId: input.forkOf.runId, turn: input.forkOf.turn } : null,
      mcpServers: input.mcpServers ?? [],
      objective: state.goal.objective,
      runDir: state.runDir || null,
      sandbox: state.runDir ? state.sandbox : null,
      goal: goalView(state.goal, now),
      hold: holdView(state.goal),
      roles,
      plan: state.plan,
      verificationRounds: state.verificationRounds,
      continueAsNewCount: state.continueAsNewCount,
      events: state.events,
      lastEventSeq: state.lastEventSeq,
      approvals: approvalsView(input, state),
      ...(state.outcome ? { outcome: state.outcome } : {}),
    };
  }
}
