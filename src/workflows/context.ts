/** The run's state plus the helpers every part of the orchestrator uses: events, phase, roles, accounting, holds. */
import { ActivityFailure, condition, isCancellation } from '@temporalio/workflow';
import type { RunOwner } from '../protocol/activities';
import { formatUsd } from '../protocol/goal';
import type { Usage } from '../protocol/items';
import { billableTokens } from '../protocol/items';
import type { EventKind, HoldKind, Phase, Progress, RunEvent } from '../protocol/progress';
import type { ReasoningEffort } from '../protocol/reasoning';
import type { RunInput } from '../protocol/runInput';
import { reasoningEffortFor } from '../protocol/runInput';
import { type RunActivities, runActivities } from './activities';
import { accountUsage, type GoalState, isHeld, limitedByCost, pause, resume } from './goal';
import { endGrace } from './grace';
import { RunView } from './runView';
import { MAX_EVENTS, newRoleStats, type RoleState, type RunState } from './state';

/** Ends the run with status `failed` and this reason. */
export class RunFailure extends Error {}

/** Ends the run `budget_exhausted`: the overshoot allowed after the budget was reached is spent. */
export class BudgetExhausted extends Error {}

export class RunContext {
  /** What clients see of the run (progress, current details, search attributes, memo). */
  private readonly view = new RunView();
  /** Every activity of the run, sent to the worker whose disk holds it (docs/architecture.md decision 12). */
  readonly activities: RunActivities;
  /** Activity calls currently waiting for the owner worker to take them. */
  private ownerWaits = 0;

  constructor(
    readonly input: RunInput,
    readonly state: RunState,
  ) {
    this.activities = runActivities(
      { owner: () => this.state.owner ?? null, waiting: (owner) => this.ownerWaiting(owner) },
      { maximumAttempts: input.modelMaxAttempts, initialIntervalSecs: input.modelRetryInitialSecs },
    );
  }

  private ownerWaiting(owner: RunOwner | null): void {
    this.ownerWaits += owner ? 1 : -1;
    const was = this.state.waitingForWorker ?? null;
    const now = this.ownerWaits > 0 ? (owner?.workerId ?? was) : null;
    if (now === was) return;
    this.state.waitingForWorker = now;
    if (now)
      this.event(
        'waiting_for_worker',
        `waiting for worker "${now}": its disk holds this run's files and it is not taking the run's work (start it again with INFTY_WORKER_ID=${now} on the same disk)`,
      );
    else this.event('worker_returned', `worker "${was}" is taking the run's work again`);
    this.syncSearchAttributes();
  }

  now(): number {
    return Date.now();
  }

  event(kind: EventKind, message: string, role?: string, tool?: RunEvent['tool']): void {
    const s = this.state;
    s.lastEventSeq += 1;
    s.events.push({ seq: s.lastEventSeq, at: new Date(this.now()).toISOString(), kind, ...(role ? { role } : {}), message, ...(tool ? { tool } : {}) });
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
  }

  setPhase(phase: Phase, activeRole: string | null): void {
    this.state.phase = phase;
    this.state.activeRole = activeRole;
  }

  role(role: string): RoleState {
    let r = this.state.roles[role];
    if (!r) {
      r = { generation: 0, committedLength: 0, compactionDue: false, stats: newRoleStats(this.state.models[role] ?? this.state.models.solver ?? '') };
      this.state.roles[role] = r;
    }
    return r;
  }

  /**
   * Per-role statistics and goal accounting for one model call. `costUsd`: its dollars as the model
   * activity priced them; null (or absent, from a worker older than cost) when the price is unknown.
   */
  account(role: string, usage: Usage, costUsd: number | null | undefined): void {
    const st = this.role(role).stats;
    st.modelCalls += 1;
    st.inputTokens += usage.inputTokens;
    st.cachedInputTokens += usage.cachedInputTokens;
    st.outputTokens += usage.outputTokens;
    st.reasoningTokens += usage.reasoningTokens;
    st.tokensUsed += billableTokens(usage);
    st.lastInputTokens = usage.inputTokens;
    st.pricedCostUsd = (st.pricedCostUsd ?? 0) + (costUsd ?? 0);
    st.unpricedCalls = (st.unpricedCalls ?? 0) + (costUsd == null ? 1 : 0);
    this.setGoal(accountUsage(this.state.goal, usage, this.now(), costUsd ?? null));
  }

  /**
   * The one place the goal changes: entering budget_limited starts the grace period (one
   * wrap-up message, bounded overshoot); leaving it (budget raised) restores normal work.
   */
  setGoal(next: GoalState): void {
    const s = this.state;
    const wasLimited = s.goal.status === 'budget_limited';
    s.goal = next;
    const limited = next.status === 'budget_limited';
    if (!wasLimited && limited) {
      this.event(
        'budget_limited',
        limitedByCost(next)
          ? `cost budget reached: ${formatUsd(next.pricedCostUsd ?? 0)} of ${formatUsd(next.costBudgetUsd ?? 0)} spent`
          : `token budget reached: ${next.tokensUsed} of ${next.tokenBudget} tokens used`,
      );
    }
    if (wasLimited && !limited && next.status !== 'complete') {
      endGrace(s);
      this.event('budget', 'the goal is no longer budget-limited; normal work resumes');
    }
  }

  holdRun(reason: string, kind: HoldKind): void {
    this.setGoal(pause(this.state.goal, reason, this.now(), kind));
    this.event('paused', reason);
  }

  releaseRun(): void {
    if (!this.isHeld()) return;
    this.setGoal(resume(this.state.goal, this.now()));
    this.event('resumed', 'run resumed');
  }

  isHeld(): boolean {
    return isHeld(this.state.goal);
  }

  /** Safe point: no new model call starts while the run is held. Waiting holds no worker slot. */
  async waitWhileHeld(): Promise<void> {
    if (!this.isHeld()) return;
    const { phase, activeRole } = this.state;
    this.setPhase('paused', activeRole);
    this.syncSearchAttributes();
    await condition(() => !this.isHeld());
    this.setPhase(phase, activeRole);
    this.syncSearchAttributes();
  }

  /** The Web UI's current details, the search attributes and the goal memo, as the run stands now. */
  syncSearchAttributes(): void {
    this.view.sync(this.state, this.now());
  }

  /** run.json's roles: model, reasoning effort (null: the model's default), current generation. */
  roleRecords(): { role: string; model: string; generation: number; reasoningEffort: ReasoningEffort | null }[] {
    return Object.entries(this.state.roles).map(([role, r]) => ({
      role,
      model: r.stats.model,
      generation: r.generation,
      reasoningEffort: reasoningEffortFor(this.input, role) ?? null,
    }));
  }

  async recordRoles(): Promise<void> {
    await this.activities.store.updateRunRecord({
      runId: this.input.runId,
      roles: this.roleRecords(),
      extra: { objective: this.state.goal.objective },
    });
  }

  /**
   * Writes a changed objective into run.json at once. A failure is reported as an event and does not
   * fail the update: every later run.json write carries the objective too.
   */
  async recordObjective(): Promise<void> {
    try {
      await this.activities.store.updateRunRecord({ runId: this.input.runId, extra: { objective: this.state.goal.objective } });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      this.event('objective_updated', `run.json not updated yet (${cause instanceof Error ? cause.message : String(cause)}); it will be with the next write`);
    }
  }

  progress(): Progress {
    return this.view.progress(this.input, this.state, this.now());
  }
}
