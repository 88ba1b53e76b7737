/**
 * Model calls of a run (docs/behaviour.md §6, §8.3): one step of a role, compaction before it when
 * due, and what an endpoint failure does to the run — compact and retry on a length refusal, hold
 * on trouble the user fixes on the worker side, fail on a refused request.
 */
import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import type { ModelStepInput, ModelStepResult, NewItem } from '../protocol/activities';
import type { OutputSchemaName } from '../protocol/outputSchemas';
import { instructionsOverride, promptNameFor, reasoningEffortFor } from '../protocol/runInput';
import { MODEL_NON_RETRYABLE } from './activities';
import { BudgetExhausted, type RunContext, RunFailure } from './context';
import { budgetReached } from './goal';
import { chargeGraceModelCall } from './grace';
import { committed, compacted, compactionNeeded } from './roleLedger';

/** Endpoint trouble the user fixes on the worker side: the run is held, not failed. */
const HOLD_ON = ['ModelNotConfigured'];

/** Counts a model call made over budget; refuses it once the allowed overshoot is spent. */
function chargeGraceCall(ctx: RunContext): void {
  if (!chargeGraceModelCall(ctx.state, ctx.input.budgetGraceModelCalls)) {
    throw new BudgetExhausted(`${budgetReached(ctx.state.goal)} and the ${ctx.input.budgetGraceModelCalls} model calls allowed after it are spent`);
  }
}

/**
 * One model step for a role. Compacts first when the last request reached the auto-compact
 * limit, or once after the model refused the request for length. Auth and invalid-request errors
 * end the run; a missing endpoint configuration, or retries exhausted on a transient endpoint
 * failure (during compaction too), hold the run with the reason until the user resumes it.
 */
export async function modelStep(
  ctx: RunContext,
  role: string,
  newItems: NewItem[],
  opts: { schema: OutputSchemaName | null; tools: string[]; toolChoice?: 'none' },
): Promise<ModelStepResult> {
  const r = ctx.role(role);
  const override = instructionsOverride(ctx.input, role);
  const effort = reasoningEffortFor(ctx.input, role);
  let compactedForLength = false;
  for (;;) {
    await ctx.waitWhileHeld();
    try {
      if (r.compactionDue) await compact(ctx, role, opts.tools);
      const req: ModelStepInput = {
        runId: ctx.input.runId,
        role,
        generation: r.generation,
        committedLength: r.committedLength,
        newItems,
        model: r.stats.model,
        ...(effort ? { reasoningEffort: effort } : {}),
        instructions: override ? { kind: 'text', text: override } : { kind: 'prompt', name: promptNameFor(role) },
        tools: opts.tools,
        outputSchema: opts.schema,
        ...(opts.toolChoice ? { toolChoice: opts.toolChoice } : {}),
        demo: ctx.input.demo,
        ...(ctx.input.contextWindow ? { contextWindow: ctx.input.contextWindow } : {}),
        ...(ctx.input.autoCompactLimit ? { autoCompactLimit: ctx.input.autoCompactLimit } : {}),
      };
      chargeGraceCall(ctx);
      const result = await ctx.activities.model.modelStep(req);
      committed(r, result.length, result.compactionDue);
      if (result.answeringModel) r.stats.answeringModel = result.answeringModel;
      ctx.account(role, result.usage, result.costUsd);
      ctx.syncSearchAttributes();
      return result;
    } catch (err) {
      if (isCancellation(err) || err instanceof BudgetExhausted) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : err;
      const message = cause instanceof Error ? cause.message : String(cause);
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      if (type === 'ContextLengthExceeded' && !compactedForLength && !r.compactionDue) {
        compactedForLength = true;
        compactionNeeded(r);
        ctx.event('model_error', `the model refused the request for length; compacting and retrying`, role);
        continue;
      }
      if (type && HOLD_ON.includes(type)) {
        ctx.event('model_error', message, role);
        ctx.holdRun(message, 'endpoint');
        continue;
      }
      if (type && MODEL_NON_RETRYABLE.includes(type)) {
        throw new RunFailure(`model call for ${role} failed: ${message}`);
      }
      ctx.event('model_error', `model endpoint kept failing for ${role}: ${message}`, role);
      ctx.holdRun(`model endpoint failing (${message}); fix it and resume the run`, 'endpoint');
    }
  }
}

/** Summarizes the role's history into a new transcript generation (the old one stays for audit). */
export async function compact(ctx: RunContext, role: string, tools: string[]): Promise<void> {
  const r = ctx.role(role);
  const effort = reasoningEffortFor(ctx.input, role);
  chargeGraceCall(ctx);
  const res = await ctx.activities.model.compact({
    runId: ctx.input.runId,
    role,
    generation: r.generation,
    committedLength: r.committedLength,
    model: r.stats.model,
    ...(effort ? { reasoningEffort: effort } : {}),
    demo: ctx.input.demo,
    tools,
  });
  const before = r.stats.lastInputTokens;
  compacted(r, res.generation, res.length);
  r.stats.compactions += 1;
  ctx.account(role, res.usage, res.costUsd);
  r.stats.lastInputTokens = 0;
  ctx.event(
    'compaction',
    `compacted the history (${before} input tokens) into generation ${res.generation}${res.droppedItems ? `, dropping ${res.droppedItems} oldest items to fit` : ''}`,
    role,
  );
  await ctx.recordRoles();
}
