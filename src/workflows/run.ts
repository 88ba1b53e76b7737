/** inftyRun: the orchestrator loop (SPEC §3). Deterministic: every effect goes through an activity. */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { NewItem } from '../protocol/activities';
import { userMessage } from '../protocol/items';
import type { RunOutcome } from '../protocol/outcome';
import { OUTPUT_SCHEMAS } from '../protocol/outputSchemas';
import { RunInputSchema, modelFor, type RunInput, type RunInputRaw } from '../protocol/runInput';
import { formatZodError, parseSolverSignal, type SolverSignal } from '../protocol/signals';
import { storeActivities } from './activities';
import { RunContext, RunFailure } from './context';
import { askDirector, correctionMessage } from './direction';
import { applySetGoal, checkSetGoal, complete, goalView, newGoal } from './goal';
import { budgetLimitItem, onIdle } from './idle';
import { goalQuery, pauseSignal, progressQuery, resumeSignal, setGoalUpdate, steerSignal } from './messages';
import { abbreviate, runToolCalls, SOLVER_TOOLS } from './roleTurn';
import { GRACE_STEPS_PER_TURN, type RunState } from './state';
import { verificationRound } from './verification';

export async function inftyRun(rawInput: RunInputRaw, carried?: RunState): Promise<RunOutcome> {
  const parsed = RunInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid run input: ${formatZodError(parsed.error)}`, 'InvalidRunInput');
  }
  const input = parsed.data;
  const ctx = new RunContext(input, carried ?? initialState(input));
  installHandlers(ctx);
  try {
    if (!carried) await start(ctx);
    return await solverLoop(ctx);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => finish(ctx, { runId: input.runId, status: 'cancelled', reason: 'cancelled by the user' }));
      throw err;
    }
    const reason = failureReason(err);
    if (reason === undefined) throw err;
    return finish(ctx, { runId: input.runId, status: 'failed', reason });
  }
}

function failureReason(err: unknown): string | undefined {
  if (err instanceof RunFailure) return err.message;
  if (err instanceof ActivityFailure) return err.cause?.message ?? err.message;
  if (err instanceof ApplicationFailure) return err.message;
  return undefined;
}

function initialState(input: RunInput): RunState {
  const now = Date.now();
  return {
    runDir: '',
    sandbox: 'none',
    models: {},
    createdAt: new Date(now).toISOString(),
    goal: newGoal(input.objective, input.tokenBudget, now),
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
    graceStepsUsed: 0,
    steerQueue: [],
    hold: null,
  };
}

function installHandlers(ctx: RunContext): void {
  setHandler(progressQuery, () => ctx.progress());
  setHandler(goalQuery, () => goalView(ctx.state.goal, ctx.now()));
  setHandler(
    setGoalUpdate,
    (req) => {
      const checked = checkSetGoal(ctx.state.goal, req);
      if (!checked.ok) throw new Error(checked.error);
      const before = ctx.state.goal.tokenBudget;
      ctx.state.goal = applySetGoal(ctx.state.goal, { ...('tokenBudget' in checked.value ? { tokenBudget: checked.value.tokenBudget } : {}) }, ctx.now());
      if ('tokenBudget' in checked.value && checked.value.tokenBudget !== before) {
        ctx.event('budget', `token budget set to ${checked.value.tokenBudget ?? 'none'}`);
      }
      if (checked.value.status === 'paused' && !ctx.isHeld()) ctx.holdRun('paused by the user');
      if (checked.value.status === 'active') ctx.releaseRun();
      ctx.syncSearchAttributes();
      return goalView(ctx.state.goal, ctx.now());
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
    const message = typeof arg?.message === 'string' ? arg.message.trim() : '';
    if (!message || ctx.state.outcome) return;
    ctx.state.steerQueue.push(message);
    ctx.event('steer', `queued for the Solver: ${abbreviate(message, 200)}`);
  });
  setHandler(pauseSignal, () => {
    if (!ctx.state.outcome && !ctx.isHeld()) ctx.holdRun('paused by the user');
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
  const created = await storeActivities.createRun({
    runId: input.runId,
    objective: input.objective,
    roles: roles.map((role) => ({ role, model: modelFor(input, role) })),
    sandbox: input.sandbox,
  });
  state.runDir = created.runDir;
  state.sandbox = created.sandbox;
  state.models = created.models;
  state.createdAt = created.createdAt;
  for (const role of roles) ctx.role(role);
  state.pendingSolverItems = [userMessage(input.objective)];
  ctx.setPhase('solving', 'solver');
  ctx.event('objective_posted', abbreviate(input.objective, 300), 'solver');
}

async function solverLoop(ctx: RunContext): Promise<RunOutcome> {
  const { state, input } = ctx;
  for (;;) {
    await maybeContinueAsNew(ctx);
    await ctx.waitWhileHeld(); // before taking steering messages, so those sent while paused go with this step
    const items = [...state.pendingSolverItems, ...solverInjections(ctx)];
    ctx.setPhase('solving', 'solver');
    const step = await ctx.modelStep('solver', items, { schema: state.pendingSchema, tools: SOLVER_TOOLS });
    state.pendingSolverItems = [];
    if (state.budgetNoticeSent) {
      state.graceStepsUsed += 1;
      if (state.graceStepsUsed > input.budgetGraceTurns * GRACE_STEPS_PER_TURN) return budgetExhausted(ctx);
    }
    if (step.toolCalls.length > 0) {
      state.turnToolCalls += step.toolCalls.length;
      state.pendingSolverItems = await runToolCalls(ctx, 'solver', step.toolCalls, SOLVER_TOOLS);
      continue;
    }
    ctx.role('solver').stats.turns += 1;
    const outcome = await route(ctx, step.text ?? '');
    state.turnToolCalls = 0;
    if (outcome) return finish(ctx, outcome);
    if (state.budgetNoticeSent) {
      state.graceTurnsUsed += 1;
      if (state.graceTurnsUsed >= input.budgetGraceTurns) return budgetExhausted(ctx);
    }
  }
}

/** Steering messages and the one-time budget-limit message, delivered with the Solver's next step. */
function solverInjections(ctx: RunContext): NewItem[] {
  const { state } = ctx;
  const extra: NewItem[] = state.steerQueue.splice(0).map((m) => {
    ctx.event('steer', `delivered to the Solver: ${abbreviate(m, 200)}`, 'solver');
    return userMessage(m);
  });
  if (state.goal.status === 'budget_limited' && !state.budgetNoticeSent) {
    state.budgetNoticeSent = true;
    state.graceTurnsUsed = 0;
    state.graceStepsUsed = 0;
    extra.push(budgetLimitItem(ctx));
    ctx.event('budget_limited', `sent the budget-limit message; ${ctx.input.budgetGraceTurns} more Solver turn(s) to deliver`, 'solver');
  } else if (state.goal.status !== 'budget_limited' && state.budgetNoticeSent) {
    state.budgetNoticeSent = false;
  }
  return extra;
}

function budgetExhausted(ctx: RunContext): Promise<RunOutcome> {
  const g = ctx.state.goal;
  return finish(ctx, {
    runId: ctx.input.runId,
    status: 'budget_exhausted',
    reason: `token budget of ${g.tokenBudget} reached (${g.tokensUsed} used) and the Solver did not deliver within ${ctx.input.budgetGraceTurns} further turn(s)`,
  });
}

/** Routes the Solver's final message of a turn; returns an outcome when the run ends. */
async function route(ctx: RunContext, text: string): Promise<RunOutcome | undefined> {
  const { state, input } = ctx;
  const parsed = parseSolverSignal(text);
  if (parsed.kind === 'none') {
    if (text.trim()) ctx.event('solver_message', abbreviate(text, 300), 'solver');
    onIdle(ctx);
    return undefined;
  }
  state.idleStage = 0;
  if (parsed.kind === 'malformed') {
    state.malformedStreak += 1;
    ctx.event('malformed_signal', `malformed signal (${state.malformedStreak}/${input.maxConsecutiveErrors}): ${parsed.error}`, 'solver');
    if (state.malformedStreak >= input.maxConsecutiveErrors) {
      throw new RunFailure(`the Solver sent ${state.malformedStreak} malformed signals in a row; last error: ${parsed.error}`);
    }
    state.pendingSolverItems = [userMessage(correctionMessage(parsed.error, OUTPUT_SCHEMAS[state.pendingSchema]))];
    return undefined;
  }
  state.malformedStreak = 0;
  const signal = parsed.signal;
  if (signal.type === 'direction_request') {
    const directive = await askDirector(ctx, signal.prompt!);
    state.pendingSolverItems = [userMessage(directive)];
    state.pendingSchema = 'solver_signal';
    return undefined;
  }
  return deliver(ctx, signal, text);
}

async function deliver(ctx: RunContext, signal: SolverSignal, rawMessage: string): Promise<RunOutcome | undefined> {
  const { state, input } = ctx;
  const claimed = signal.deliverable_path!.trim();
  ctx.setPhase('validating', 'solver');
  ctx.event('delivery', `final delivery: ${claimed}${signal.summary ? ` — ${abbreviate(signal.summary, 200)}` : ''}`, 'solver');
  const check = await storeActivities.validateDeliverable({ runDir: state.runDir, path: claimed });
  if (!check.ok) {
    state.invalidDeliveryStreak += 1;
    ctx.event('delivery_invalid', `refused (${state.invalidDeliveryStreak}/${input.maxConsecutiveErrors}): ${check.reason}`, 'solver');
    if (state.invalidDeliveryStreak >= input.maxConsecutiveErrors) {
      throw new RunFailure(`the Solver made ${state.invalidDeliveryStreak} invalid deliveries in a row; last: ${check.reason}`);
    }
    state.pendingSolverItems = [
      userMessage(
        `Your final_delivery was not accepted: ${check.reason}. No verification was run. ` +
          'Fix the deliverable and deliver again with a deliverable_path relative to the run directory.',
      ),
    ];
    state.pendingSchema = 'solver_signal';
    return undefined;
  }
  state.invalidDeliveryStreak = 0;
  const feedback = await verificationRound(ctx, check.relativePath, signal.summary);
  if (feedback.overall === 'pass') {
    // SPEC §3: the aggregate always reaches the Solver; on a pass there is no next turn, so it is
    // recorded in its transcript. Versioned: histories from before this change replay unchanged.
    if (patched('final-feedback-to-solver')) {
      const solver = ctx.role('solver');
      solver.committedLength = await storeActivities.recordItems({
        runId: input.runId,
        role: 'solver',
        generation: solver.generation,
        committedLength: solver.committedLength,
        items: [userMessage(JSON.stringify(feedback))],
      });
    }
    return {
      runId: input.runId,
      status: 'delivered',
      deliverablePath: check.path,
      summary: signal.summary,
      rawMessage,
      verification: feedback,
    };
  }
  state.pendingSolverItems = [userMessage(JSON.stringify(feedback))];
  state.pendingSchema = 'solver_signal';
  return undefined;
}

/** Continue-as-new at a Solver step boundary, carrying only the small state (decision 5). */
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
  if (outcome.status === 'delivered') state.goal = complete(state.goal, ctx.now());
  ctx.setPhase('finished', null);
  const detail = outcome.status === 'delivered' ? outcome.deliverablePath : outcome.reason;
  ctx.event('outcome', `${outcome.status}: ${abbreviate(detail, 300)}`);
  ctx.syncSearchAttributes();
  if (state.runDir) {
    await storeActivities.updateRunRecord({
      runId: ctx.input.runId,
      status: outcome.status,
      roles: Object.entries(state.roles).map(([role, r]) => ({ role, model: r.stats.model, generation: r.generation })),
      extra: { outcome, continue_as_new_count: state.continueAsNewCount },
    });
  }
  return outcome;
}
