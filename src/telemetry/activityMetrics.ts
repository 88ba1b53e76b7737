/**
 * Infty's per-role metrics (src/telemetry/metricNames.ts), recorded by an activity inbound
 * interceptor from the activity's type, input and result through the activity's metric meter
 * (tagged by the SDK with namespace, taskQueue and activityType). Recording never fails an activity.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import type { ToolErrorKind, ToolOutputRef } from '../protocol/activities';
import { MODEL_COST_USD, MODEL_ERRORS, MODEL_LATENCY, MODEL_TOKENS, MODEL_UNPRICED_CALLS, TOOL_ERRORS, TOOL_LATENCY } from './metricNames';
import {
  costOfResult,
  errorType,
  isCancellation,
  type ModelCall,
  modelCallOf,
  type Outcome,
  type ToolCallSubject,
  tokenKinds,
  toolCallOf,
  usageOf,
} from './observe';

export class ActivityMetrics implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const type = this.ctx.info.activityType;
    const model = modelCallOf(type, input.args);
    const tool = model ? undefined : toolCallOf(type, input.args);
    if (!model && !tool) return next(input);
    const started = performance.now();
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      const ms = elapsed(started);
      const outcome: Outcome = isCancellation(err, this.ctx.cancellationSignal.aborted) ? 'cancelled' : 'error';
      this.safely(() => (model ? this.modelDone(model, ms, outcome, undefined, err) : this.toolDone(tool!, ms, outcome, errorType(err))));
      throw err;
    }
    const ms = elapsed(started);
    if (model) this.safely(() => this.modelDone(model, ms, 'ok', result));
    else this.safely(() => this.toolDone(tool!, ms, 'ok', toolError(this.ctx, result)));
    return result;
  }

  private modelDone(call: ModelCall, ms: number, outcome: Outcome, result: unknown, err?: unknown): void {
    const meter = this.ctx.metricMeter;
    const tags = { role: call.role, model: call.model, purpose: call.purpose };
    meter.createHistogram(MODEL_LATENCY, 'int', 'ms', 'Model call latency per attempt').record(ms, { ...tags, outcome });
    if (outcome === 'error') meter.createCounter(MODEL_ERRORS, '1', 'Failed model call attempts').add(1, { ...tags, error_type: errorType(err) });
    const usage = usageOf(result);
    if (!usage) return;
    const tokens = meter.createCounter(
      MODEL_TOKENS,
      'tokens',
      'Tokens reported by the model endpoint (input includes cached input; output includes reasoning)',
    );
    for (const [kind, n] of Object.entries(tokenKinds(usage))) if (n > 0) tokens.add(n, { ...tags, kind });
    const cost = costOfResult(result);
    if (typeof cost === 'number')
      meter.createHistogram(MODEL_COST_USD, 'float', 'usd', 'Model call cost in US dollars from the price table (_sum: dollars spent)').record(cost, tags);
    else if (cost === null) meter.createCounter(MODEL_UNPRICED_CALLS, '1', 'Model calls whose model has no known price').add(1, tags);
  }

  /** `error`: why the call failed (a thrown error's type, or the reason its output is an error), if it did. */
  private toolDone(call: ToolCallSubject, ms: number, outcome: Outcome, error: string | undefined): void {
    const meter = this.ctx.metricMeter;
    const tags = { role: call.role, tool: call.tool };
    const shown: Outcome = outcome === 'ok' && error ? 'error' : outcome;
    meter.createHistogram(TOOL_LATENCY, 'int', 'ms', 'Tool call latency per attempt').record(ms, { ...tags, outcome: shown });
    if (shown === 'error' && error) meter.createCounter(TOOL_ERRORS, '1', 'Tool calls that failed or returned an error').add(1, { ...tags, error_type: error });
  }

  private safely(record: () => void): void {
    try {
      record();
    } catch (err) {
      this.ctx.log.warn('could not record metrics', { error: String(err) });
    }
  }
}

/** Tool errors noted by activities whose result cannot say so (runTool), by the activity's context. */
const notedToolErrors = new WeakMap<Context, ToolErrorKind>();

/**
 * Tells the metrics that this activity's tool failed. For the legacy runTool: its result is the
 * output text (its type is fixed by the histories that recorded it), so it cannot carry the digest.
 */
export function noteToolError(ctx: Context, kind: ToolErrorKind): void {
  notedToolErrors.set(ctx, kind);
}

/** Whether a completed tool call's tool failed: runToolCall's reference says so; runTool noted it. */
function toolError(ctx: Context, result: unknown): string | undefined {
  if (typeof result === 'string') return notedToolErrors.get(ctx);
  return (result as Partial<ToolOutputRef> | undefined)?.toolError;
}

function elapsed(started: number): number {
  return Math.max(0, Math.round(performance.now() - started));
}

/** The interceptor for WorkerOptions.interceptors.activity. */
export function activityMetrics(): ActivityInterceptorsFactory {
  return (ctx) => ({ inbound: new ActivityMetrics(ctx) });
}
