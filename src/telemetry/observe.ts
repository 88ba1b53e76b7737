/**
 * What an activity execution means for Infty's metrics (src/telemetry/metricNames.ts), from its type,
 * input, result or error alone: pure functions, so the product's activity code stays untouched.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { CompactInput, ModelStepInput, ToolActivityInput, ToolCallInput } from '../protocol/activities';
import type { Usage } from '../protocol/items';

export interface ModelCall {
  role: string;
  model: string;
  /** `turn` (modelStep) or `compaction` (compact), as the x-infty-purpose header (docs/interface.md §12). */
  purpose: 'turn' | 'compaction';
}

export interface ToolCallSubject {
  role: string;
  tool: string;
}

/** The model call a `modelStep` or `compact` activity makes; undefined for other activities. */
export function modelCallOf(activityType: string, args: unknown[]): ModelCall | undefined {
  if (activityType !== 'modelStep' && activityType !== 'compact') return undefined;
  const input = args[0] as Partial<ModelStepInput | CompactInput> | undefined;
  return {
    role: text(input?.role),
    model: text(input?.model),
    purpose: activityType === 'modelStep' ? 'turn' : 'compaction',
  };
}

/** The tool a `runToolCall` (or older `runTool`) activity runs; undefined for other activities. */
export function toolCallOf(activityType: string, args: unknown[]): ToolCallSubject | undefined {
  if (activityType !== 'runToolCall' && activityType !== 'runTool') return undefined;
  const input = args[0] as Partial<ToolCallInput | ToolActivityInput> | undefined;
  return { role: text(input?.role), tool: text(input?.call?.name) };
}

/** The usage a `modelStep` or `compact` result reports (both carry `usage`). */
export function usageOf(result: unknown): Usage | undefined {
  const usage = (result as { usage?: Usage } | null | undefined)?.usage;
  return usage && typeof usage.inputTokens === 'number' ? usage : undefined;
}

/** A model result's cost in dollars; null: the price is unknown; undefined: the result carries none (an older worker). */
export function costOfResult(result: unknown): number | null | undefined {
  const cost = (result as { costUsd?: unknown } | null | undefined)?.costUsd;
  if (cost === null) return null;
  return typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** Token counts by the `kind` attribute of infty_model_tokens. */
export function tokenKinds(usage: Usage): Record<'input' | 'cached_input' | 'output' | 'reasoning', number> {
  return {
    input: count(usage.inputTokens),
    cached_input: count(usage.cachedInputTokens),
    output: count(usage.outputTokens),
    reasoning: count(usage.reasoningTokens),
  };
}

export type Outcome = 'ok' | 'error' | 'cancelled';

/** The error_type attribute of a thrown error: the failure type (e.g. ModelRateLimited), else the error's name. */
export function errorType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type || 'ApplicationFailure';
  if (err instanceof Error) return err.name || 'Error';
  return 'unknown';
}

/** Whether a thrown error is the activity's cancellation rather than a failure. */
export function isCancellation(err: unknown, cancelled: boolean): boolean {
  return cancelled || err instanceof CancelledFailure;
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : 'unknown';
}

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
