/** inftyRun: the orchestrator loop (docs/behaviour.md §3). Deterministic: every effect goes through an activity. */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CreateRunInput, CreateRunResult } from '../protocol/activities';
import { formatUsd } from '../protocol/goal';
import { userMessage } from '../protocol/items';
import { formatZodError } from '../protocol/json';
import { goalQuery, pauseSignal, progressQuery, resumeSignal, setGoalUpdate, steerSignal } from '../protocol/names';
import type { RunOutcome } from '../protocol/outcome';
import { modelFor, type RunInput, type RunInputRaw, RunInputSchema, reasoningEffortFor } from '../protocol/runInput';
import { endPendingApprovals, installApprovalHandlers } from './approvals';
import { BudgetExhausted, RunContext, RunFailure } from './context';
import { restartWatchdogForNewObjective } from './convergence';
import { applySetGoal, checkSetGoal, complete, endUndelivered, goalView, isHeld, migrateGoal, newGoal } from './goal';
import { startMcp } from './mcp';
import { isPatched } from './patches';
import { projectOpening } from './project';
import { abbreviate } from './roleTurn';
import { adoptForkPositions, forkOpening } from './snapshots';
import { budgetExhaustedOutcome, solverLoop } from './solver';
import type { CarriedState, RunState } from './state';

/** Steering messages longer than this are cut (marked) so one signal cannot bloat every later payload. */
const MAX_STEER_CHARS = 16_000;

export async function inftyRun(rawInput: RunInputRaw, carried?: CarriedState): Promise<RunOutcome> {
  const parsed = RunInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid run input: ${formatZodError(parsed.error)}`, 'InvalidRunInput');
  }
  const input = parsed.data;
  const ctx = new RunContext(input, carried ? migrateState(carried) : initialState(input));
  installHandlers(ctx);
  try {
    if (!carried) await start(ctx);
    return await finish(ctx, await solverLoop(ctx, () => maybeContinueAsNew(ctx)));
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => finish(ctx, { runId: input.runId, status: 'cancelled', reason: 'cancelled by the user' }));
      throw err;
    }
    if (err instanceof BudgetExhausted) return finish(ctx, budgetExhaustedOutcome(ctx, err.message));
    const reason = failureReason(err);
    if (reason === undefined) throw err;
    return finish(ctx, { runId: input.runId, status: 'failed', reason, ...failureType(err) });
  }
}

/** State carried by a continue-as-new of an older version of this workflow, brought to today's shape. */
function migrateState(carried: CarriedState): RunState {
  const { hold, graceStepsUsed: _graceStepsUsed, ...rest } = carried;
  return {
    ...rest,
    goal: migrateGoal(rest.goal, hold),
    graceModelCalls: rest.graceModelCalls ?? 0,
    turnSteps: rest.turnSteps ?? 0,
    objectiveUpdatePending: rest.objectiveUpdatePending ?? false,
  };
}

/** A project the worker refused (docs/behaviour.md §4.4) is bad input: the outcome says so, and the CLI exits 2. */
function failureType(err: unknown): { errorType: string } | Record<string, never> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === 'InvalidProjectSource' ? { errorType: cause.type } : {};
}

function failureReason(err: unknown): string | undefined {
  if (err instanceof RunFailure) return err.message;
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  if (err instanceof ApplicationFailure) return err.message;
  return undefined;
}

function initialState(input: RunInput): RunState {
  const now = Date.now();
  // Only a run with a cost budget takes the cost into its decisions (and records the marker).
  const costBudgetUsd = input.costBudgetUsd != null && isPatched('costBudget') ? input.costBudgetUsd : null;
  return {
    runDir: '',
    sandbox: 'none',
    models: {},
    createdAt: new Date(now).toISOString(),
    goal: newGoal(input.objective, input.tokenBudget, now, costBudgetUsd),
    roles: {},
    phase: 'starting',
    activeRole: null,
    events: [],
    lastEventSeq: 0,
    plan: { explanation: null, steps: [] },
    verificationRounds: 0,
    continueAsNewCount: 0,
    pendingSolverItems: [],
    pendingSchema: 'solver_signal',
    turnToolCalls: 0,
    idleStage: 0,
    malformedStreak: 0,
    invalidDeliveryStreak: 0,
    budgetNoticeSent: false,
    graceTurnsUsed: 0,
    graceModelCalls: 0,
    turnSteps: 0,
    steerQueue: [],
    objectiveUpdatePending: false,
  };
}

function installHandlers(ctx: RunContext): void {
  installApprovalHandlers(ctx);
  setHandler(progressQuery, () => ctx.progress());
  setHandler(goalQuery, () => goalView(ctx.state.goal, ctx.now()));
  setHandler(
    setGoalUpdate,
    async (req) => {
      const checked = checkSetGoal(ctx.state.goal, req);
      if (!checked.ok) throw new Error(checked.error);
      const { status, objective } = checked.value;
      const before = ctx.state.goal;
      // A cost budget set on a running run takes the cost into its decisions from here on.
      const costChange = 'costBudgetUsd' in checked.value && isPatched('costBudget') ? { costBudgetUsd: checked.value.costBudgetUsd } : {};
      const change = {
        ...('tokenBudget' in checked.value ? { tokenBudget: checked.value.tokenBudget } : {}),
        ...costChange,
        ...(objective !== undefined ? { objective } : {}),
        ...(status !== undefined ? { status } : {}),
      };
      // Every goal change of the update goes through the one reducer (src/workflows/goal.ts).
      ctx.setGoal(applySetGoal(before, change, ctx.now()));
      if ('tokenBudget' in checked.value && checked.value.tokenBudget !== before.tokenBudget) {
        ctx.event('budget', `token budget set to ${checked.value.tokenBudget ?? 'none'}`);
      }
      if ('costBudgetUsd' in costChange && (costChange.costBudgetUsd ?? null) !== (before.costBudgetUsd ?? null)) {
        ctx.event('budget', `cost budget set to ${costChange.costBudgetUsd == null ? 'none' : formatUsd(costChange.costBudgetUsd)}`);
      }
      const objectiveChanged = ctx.state.goal.objective !== before.objective;
      if (objectiveChanged) {
        // The Solver hears it with its next model step; the Director and Verifiers read the goal's objective.
        ctx.state.objectiveUpdatePending = true;
        restartWatchdogForNewObjective(ctx);
        ctx.event('objective_updated', `objective changed to: ${abbreviate(ctx.state.goal.objective, 300)}`);
      }
      if (!isHeld(before) && ctx.isHeld()) ctx.event('paused', 'paused by the user');
      if (isHeld(before) && !ctx.isHeld()) ctx.event('resumed', 'run resumed');
      ctx.syncSearchAttributes();
      const goal = goalView(ctx.state.goal, ctx.now());
      if (objectiveChanged && ctx.state.runDir) await ctx.recordObjective();
      return goal;
    },
    {
      validator: (req) => {
        if (ctx.state.outcome) throw new Error(`the run has ended (${ctx.state.outcome.status}); its goal can no longer change`);
        const checked = checkSetGoal(ctx.state.goal, req);
        if (!checked.ok) throw new Error(checked.error);
      },
    },
  );
  setHandler(steerSignal, (arg) => {
    const full = typeof arg?.message === 'string' ? arg.message.trim() : '';
    if (!full || ctx.state.outcome) return;
    const message =
      full.length <= MAX_STEER_CHARS ? full : `${full.slice(0, MAX_STEER_CHARS)}\n[… ${full.length - MAX_STEER_CHARS} characters of this message were cut …]`;
    ctx.state.steerQueue.push(message);
    ctx.event('steer', `queued for the Solver: ${abbreviate(message, 200)}`);
  });
  setHandler(pauseSignal, () => {
    if (!ctx.state.outcome && !ctx.isHeld()) ctx.holdRun('paused by the user', 'user');
    ctx.syncSearchAttributes();
  });
  setHandler(resumeSignal, () => {
    if (!ctx.state.outcome) ctx.releaseRun();
    ctx.syncSearchAttributes();
  });
}

async function start(ctx: RunContext): Promise<void> {
  const { input, state } = ctx;
  ctx.event('run_started', `run ${input.runId} started`);
  ctx.syncSearchAttributes();
  const roles = ['solver', 'director', ...input.verifiers];
  // A fork is created where the source's snapshot is: on the source's owner worker (docs/architecture.md decision 13).
  if (input.forkOf?.owner) state.owner = input.forkOf.owner;
  const createInput = {
    runId: input.runId,
    objective: input.objective,
    roles: roles.map((role) => {
      const effort = reasoningEffortFor(input, role);
      return { role, model: modelFor(input, role), ...(effort ? { reasoningEffort: effort } : {}) };
    }),
    sandbox: input.sandbox,
    ...(input.forkOf ? { forkOf: { runId: input.forkOf.runId, turn: input.forkOf.turn } } : {}),
    ...(input.project ? { project: input.project } : {}),
    ...(input.projectDocs ? {} : { projectDocs: false }),
  };
  const created = await createRunDirectory(ctx, createInput);
  state.runDir = created.runDir;
  if (created.project) state.project = created.project;
  // Versioned: histories from before runs followed their worker's disk replay unchanged.
  if (isPatched('storageFollowsRun')) state.owner = created.owner ?? null;
  state.sandbox = created.sandbox;
  state.models = created.models;
  state.createdAt = created.createdAt;
  // An objective changed while the run directory was being created (setGoal skips run.json then).
  if (state.goal.objective !== input.objective) await ctx.recordObjective();
  for (const role of roles) ctx.role(role);
  if (input.forkOf) {
    adoptForkPositions(ctx, created.roles ?? {});
    ctx.event('forked', `fork of run ${input.forkOf.runId} at Solver turn ${input.forkOf.turn}`);
  }
  // Versioned, and only for runs with MCP servers: other runs' histories replay unchanged.
  const mcpNotice = input.mcpServers?.length && isPatched('mcpTools') ? await startMcp(ctx, input.mcpServers) : [];
  state.pendingSolverItems = input.forkOf
    ? [forkOpening(ctx), ...mcpNotice]
    : [...(state.project ? [projectOpening(state.runDir, state.project)] : []), ...mcpNotice, userMessage(input.objective)];
  ctx.setPhase('solving', 'solver');
  ctx.event('objective_posted', abbreviate(input.objective, 300), 'solver');
}

/**
 * A project's copy takes as long as the tree needs (docs/behaviour.md §4.4): the long, heartbeating
 * proxy. A fork is made on its source's owner. Any other run is created by the worker running this
 * task, in a local activity (versioned: older histories replay their activity).
 */
function createRunDirectory(ctx: RunContext, createInput: CreateRunInput): Promise<CreateRunResult> {
  const { input } = ctx;
  if (input.project) return ctx.activities.project.createRun(createInput);
  if (input.forkOf || !isPatched('localRunCreation')) return ctx.activities.store.createRun(createInput);
  return ctx.activities.localStore.createRun(createInput);
}

/** Continue-as-new at a Solver step boundary, carrying only the small state (docs/architecture.md decision 5). */
async function maybeContinueAsNew(ctx: RunContext): Promise<void> {
  const info = workflowInfo();
  if (!info.continueAsNewSuggested && info.historyLength < ctx.input.continueAsNewAfterEvents) return;
  await condition(allHandlersFinished);
  ctx.state.continueAsNewCount += 1;
  ctx.event('continued_as_new', `continued as new (#${ctx.state.continueAsNewCount}) after ${info.historyLength} history events`);
  await ctx.recordRoles();
  await continueAsNew<typeof inftyRun>(ctx.input, ctx.state);
}

async function finish(ctx: RunContext, outcome: RunOutcome): Promise<RunOutcome> {
  const { state } = ctx;
  state.outcome = outcome;
  endPendingApprovals(ctx, `the run ended (${outcome.status}) before anyone decided`);
  ctx.setGoal(outcome.status === 'delivered' ? complete(state.goal, ctx.now()) : endUndelivered(state.goal, outcome.status, outcome.reason, ctx.now()));
  ctx.setPhase('finished', null);
  const detail = outcome.status === 'delivered' ? outcome.deliverablePath : outcome.reason;
  ctx.event('outcome', `${outcome.status}: ${abbreviate(detail, 300)}`);
  ctx.syncSearchAttributes();
  if (state.runDir) {
    await ctx.activities.store.updateRunRecord({
      runId: ctx.input.runId,
      status: outcome.status,
      roles: ctx.roleRecords(),
      extra: { objective: state.goal.objective, outcome, continue_as_new_count: state.continueAsNewCount },
    });
  }
  return outcome;
}
