/**
 * The Solver's loop (docs/behaviour.md §3): one model step at a time; what follows a step — tool outputs,
 * a directive, verification feedback, an idle prompt, or the run's outcome — is decided by the
 * routing functions below and assigned in one place, the loop.
 */
import type { NewItem } from '../protocol/activities';
import { userMessage } from '../protocol/items';
import type { RunOutcome } from '../protocol/outcome';
import { parseSolverSignal, type SolverSignal } from '../protocol/signals';
import type { VerificationFeedback } from '../protocol/verdict';
import { correctionItem } from './ask';
import { type RunContext, RunFailure } from './context';
import { convergenceCheck, watchToolCalls } from './convergence';
import { askDirector } from './direction';
import { budgetReached } from './goal';
import { graceTurnEnded, takeWrapUpNotice } from './grace';
import { budgetLimitItem, objectiveUpdatedItem, onIdle } from './idle';
import { modelStep } from './modelCaller';
import { isPatched } from './patches';
import { currentChange } from './project';
import { committed } from './roleLedger';
import { abbreviate, outputCutItem, roleTools, runToolCalls } from './roleTurn';
import { snapshotTurn } from './snapshots';
import type { SolverNext } from './state';
import { verificationRound } from './verification';
import { changedSincePass, unstableDeliverableMessage } from './verifiedHash';

/** Runs Solver steps until the run has an outcome; `beforeStep` is the continue-as-new point. */
export async function solverLoop(ctx: RunContext, beforeStep: () => Promise<void>): Promise<RunOutcome> {
  const { state } = ctx;
  for (;;) {
    await beforeStep();
    await ctx.waitWhileHeld(); // before taking steering messages, so those sent while paused go with this step
    const items = [...state.pendingSolverItems, ...solverInjections(ctx)];
    ctx.setPhase('solving', 'solver');
    const next = await afterStep(ctx, items);
    if ('outcome' in next) return next.outcome;
    state.pendingSolverItems = [...next.items, ...(await convergenceCheck(ctx))]; // docs/behaviour.md §3.7
    state.pendingSchema = next.schema;
  }
}

async function afterStep(ctx: RunContext, items: NewItem[]): Promise<SolverNext> {
  const { state, input } = ctx;
  const stepsLeft = input.maxStepsPerTurn - state.turnSteps;
  const step = await modelStep(ctx, 'solver', items, {
    schema: state.pendingSchema,
    tools: roleTools(ctx, 'solver'),
    ...(stepsLeft <= 1 ? { toolChoice: 'none' as const } : {}),
  });
  state.turnSteps += 1;
  if (step.toolCalls.length > 0 && stepsLeft > 1) {
    state.turnToolCalls += step.toolCalls.length;
    return { items: await runToolCalls(ctx, 'solver', step.toolCalls, watchToolCalls(ctx)), schema: state.pendingSchema };
  }
  if (step.toolCalls.length > 0) {
    ctx.event('turn_cut', `the Solver's turn reached ${input.maxStepsPerTurn} model steps; its last tool calls were not run`, 'solver');
  } else if (step.incomplete && stepsLeft > 1) {
    return { items: [outputCutItem(ctx, 'solver', step.incomplete)], schema: state.pendingSchema };
  }
  ctx.role('solver').stats.turns += 1;
  await snapshotTurn(ctx); // docs/architecture.md decision 13
  const next = await route(ctx, step.text ?? '');
  state.turnToolCalls = 0;
  state.turnSteps = 0;
  if ('outcome' in next) return next;
  if (graceTurnEnded(state, input.budgetGraceTurns)) return { outcome: budgetExhaustedOutcome(ctx) };
  return next;
}

/**
 * An objective change, steering messages and the one-time budget-limit message, delivered with the
 * Solver's next step.
 */
function solverInjections(ctx: RunContext): NewItem[] {
  const { state } = ctx;
  const extra: NewItem[] = [];
  if (state.objectiveUpdatePending) {
    state.objectiveUpdatePending = false;
    extra.push(objectiveUpdatedItem(ctx));
    ctx.event('objective_updated', 'delivered the updated objective to the Solver', 'solver');
  }
  extra.push(
    ...state.steerQueue.splice(0).map((m) => {
      ctx.event('steer', `delivered to the Solver: ${abbreviate(m, 200)}`, 'solver');
      return userMessage(m);
    }),
  );
  if (takeWrapUpNotice(state)) {
    extra.push(budgetLimitItem(ctx));
    ctx.event('budget_limited', `sent the budget-limit message; ${ctx.input.budgetGraceTurns} more Solver turn(s) to deliver`, 'solver');
  }
  return extra;
}

export function budgetExhaustedOutcome(ctx: RunContext, detail?: string): RunOutcome {
  const g = ctx.state.goal;
  return {
    runId: ctx.input.runId,
    status: 'budget_exhausted',
    reason: detail ?? `${budgetReached(g)} and the Solver did not deliver within ${ctx.input.budgetGraceTurns} further turn(s)`,
  };
}

/** Routes the Solver's final message of a turn. */
async function route(ctx: RunContext, text: string): Promise<SolverNext> {
  const { state, input } = ctx;
  const parsed = parseSolverSignal(text);
  if (parsed.kind === 'none') {
    if (text.trim()) ctx.event('solver_message', abbreviate(text, 300), 'solver');
    state.malformedStreak = 0; // "in a row" means with no other reply between them
    return onIdle(ctx);
  }
  state.idleStage = 0;
  if (parsed.kind === 'malformed') {
    state.malformedStreak += 1;
    ctx.event('malformed_signal', `malformed signal (${state.malformedStreak}/${input.maxConsecutiveErrors}): ${parsed.error}`, 'solver');
    if (state.malformedStreak >= input.maxConsecutiveErrors) {
      throw new RunFailure(`the Solver sent ${state.malformedStreak} malformed signals in a row; last error: ${parsed.error}`);
    }
    return { items: [correctionItem(parsed.error, state.pendingSchema)], schema: state.pendingSchema };
  }
  state.malformedStreak = 0;
  const signal = parsed.signal;
  if (signal.type === 'direction_request') {
    const directive = await askDirector(ctx, signal.prompt!);
    return { items: [userMessage(directive)], schema: 'solver_signal' };
  }
  return deliver(ctx, signal, text);
}

async function deliver(ctx: RunContext, signal: SolverSignal, rawMessage: string): Promise<SolverNext> {
  const { state, input } = ctx;
  let claimed = signal.deliverable_path!.trim();
  ctx.setPhase('validating', 'solver');
  ctx.event('delivery', `final delivery: ${claimed}${signal.summary ? ` — ${abbreviate(signal.summary, 200)}` : ''}`, 'solver');
  // A project run's delivery carries its change (docs/behaviour.md §4.4); with --deliver diff the patch is the deliverable.
  const change = await currentChange(ctx, state.project?.deliver === 'diff');
  if (change?.patchPath) claimed = `${state.runDir}/${change.patchPath}`;
  const workdir = state.project?.workdir;
  let check = await ctx.activities.deliverable.validateDeliverable({ runDir: state.runDir, path: claimed, ...(workdir ? { workdir } : {}) });
  let feedback: VerificationFeedback;
  // A pass is bound to the content it judged (docs/behaviour.md §3.3): content that changed after a
  // passing round gets a new round, at most maxConsecutiveErrors in a row, then the Solver is told.
  for (let changes = 0; ; ) {
    if (!check.ok) return refuseDelivery(ctx, check.reason);
    state.invalidDeliveryStreak = 0;
    feedback = await verificationRound(ctx, check.relativePath, signal.summary, check.contentHash, change?.summary);
    if (feedback.overall !== 'pass') return { items: [userMessage(JSON.stringify(feedback))], schema: 'solver_signal' };
    const changed = await changedSincePass(ctx, claimed, check);
    if (!changed) break;
    changes += 1;
    if (changes >= input.maxConsecutiveErrors) return { items: [userMessage(unstableDeliverableMessage(claimed, changes))], schema: 'solver_signal' };
    check = changed;
  }
  // The aggregate always reaches the Solver; on a pass there is no next turn, so it is recorded in
  // its transcript. Versioned: histories from before this change replay unchanged.
  if (isPatched('finalFeedbackToSolver')) {
    const solver = ctx.role('solver');
    const length = await ctx.activities.store.recordItems({
      runId: input.runId,
      role: 'solver',
      generation: solver.generation,
      committedLength: solver.committedLength,
      items: [userMessage(JSON.stringify(feedback))],
    });
    committed(solver, length);
  }
  const { ok: _ok, path: _path, relativePath: _rel, contentHash, ...report } = check;
  return {
    outcome: {
      runId: input.runId,
      status: 'delivered',
      deliverablePath: check.path,
      summary: signal.summary,
      rawMessage,
      verification: feedback,
      deliverable: report,
      ...(contentHash === undefined ? {} : { verifiedHash: contentHash }),
    },
  };
}

/** An invalid delivery: the Solver hears why; after maxConsecutiveErrors in a row the run fails (docs/behaviour.md §3.2). */
function refuseDelivery(ctx: RunContext, reason: string): SolverNext {
  const { state, input } = ctx;
  state.invalidDeliveryStreak += 1;
  ctx.event('delivery_invalid', `refused (${state.invalidDeliveryStreak}/${input.maxConsecutiveErrors}): ${reason}`, 'solver');
  if (state.invalidDeliveryStreak >= input.maxConsecutiveErrors) {
    throw new RunFailure(`the Solver made ${state.invalidDeliveryStreak} invalid deliveries in a row; last: ${reason}`);
  }
  return { items: [{ type: 'prompt_message', template: 'invalid_delivery', vars: { reason } }], schema: 'solver_signal' };
}
