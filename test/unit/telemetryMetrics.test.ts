/** Infty's activity metrics (src/telemetry): what each activity execution records, with a fake metric meter. */
import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, type MetricMeter, type MetricTags } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_OUTPUT } from '../../src/activities/tools/journal';
import { errorResult, finalizeToolOutput, type ToolResult, textResult } from '../../src/activities/tools/output';
import { ActivityMetrics, noteToolError } from '../../src/telemetry/activityMetrics';
import { errorType } from '../../src/telemetry/observe';
import { runtimeTelemetry } from '../../src/telemetry/runtime';
import { tracesUrl } from '../../src/telemetry/tracing';

interface Recorded {
  kind: 'counter' | 'histogram';
  name: string;
  value: number;
  tags: MetricTags;
}

function fakeMeter(recorded: Recorded[], failing = false): MetricMeter {
  const metric = (kind: Recorded['kind'], name: string) => {
    const record = (value: number, tags: MetricTags = {}) => {
      if (failing) throw new Error('meter is broken');
      recorded.push({ kind, name, value, tags });
    };
    return { name, kind, valueType: 'int', add: record, record, set: record, withTags: () => metric(kind, name) };
  };
  return {
    createCounter: (name: string) => metric('counter', name),
    createHistogram: (name: string) => metric('histogram', name),
    createGauge: (name: string) => metric('histogram', name),
    withTags: () => fakeMeter(recorded, failing),
  } as unknown as MetricMeter;
}

async function execute(activityType: string, arg: unknown, run: (ctx: Context) => Promise<unknown>, opts: { aborted?: boolean; failingMeter?: boolean } = {}) {
  const recorded: Recorded[] = [];
  const warnings: string[] = [];
  const controller = new AbortController();
  if (opts.aborted) controller.abort();
  const ctx = {
    info: { activityType },
    metricMeter: fakeMeter(recorded, opts.failingMeter),
    cancellationSignal: controller.signal,
    log: { warn: (message: string) => warnings.push(message) },
  } as unknown as Context;
  const input = { args: [arg], headers: {} } as unknown as ActivityExecuteInput;
  let result: unknown;
  let error: unknown;
  try {
    result = await new ActivityMetrics(ctx).execute(input, () => run(ctx));
  } catch (err) {
    error = err;
  }
  return { recorded, warnings, result, error };
}

const named = (recorded: Recorded[], name: string) => recorded.filter((r) => r.name === name).map(({ value, tags }) => ({ value, tags }));
const usage = { inputTokens: 1000, cachedInputTokens: 250, outputTokens: 40, reasoningTokens: 0 };

describe('activity metrics', () => {
  it('a model step records its tokens by kind (none of a zero kind) and its latency', async () => {
    const { recorded, result } = await execute('modelStep', { role: 'solver', model: 'gpt-5.1' }, async () => ({ usage, length: 3 }));
    expect(result).toEqual({ usage, length: 3 });
    const tags = { role: 'solver', model: 'gpt-5.1', purpose: 'turn' };
    expect(named(recorded, 'infty_model_tokens')).toEqual([
      { value: 1000, tags: { ...tags, kind: 'input' } },
      { value: 250, tags: { ...tags, kind: 'cached_input' } },
      { value: 40, tags: { ...tags, kind: 'output' } },
    ]);
    expect(named(recorded, 'infty_model_latency')).toEqual([{ value: expect.any(Number), tags: { ...tags, outcome: 'ok' } }]);
    expect(named(recorded, 'infty_model_errors')).toEqual([]);
  });

  it('a compaction is a model call with purpose compaction', async () => {
    const { recorded } = await execute('compact', { role: 'verifier-alpha', model: 'm' }, async () => ({
      usage: { ...usage, reasoningTokens: 9 },
      generation: 2,
    }));
    expect(named(recorded, 'infty_model_tokens').map((r) => [r.tags.purpose, r.tags.role, r.tags.kind, r.value])).toEqual([
      ['compaction', 'verifier-alpha', 'input', 1000],
      ['compaction', 'verifier-alpha', 'cached_input', 250],
      ['compaction', 'verifier-alpha', 'output', 40],
      ['compaction', 'verifier-alpha', 'reasoning', 9],
    ]);
  });

  it('a failed model call counts an error of its failure type and is rethrown', async () => {
    const failure = ApplicationFailure.retryable('429', 'ModelRateLimited');
    const { recorded, error } = await execute('modelStep', { role: 'director', model: 'm' }, async () => {
      throw failure;
    });
    expect(error).toBe(failure);
    expect(named(recorded, 'infty_model_errors')).toEqual([
      { value: 1, tags: { role: 'director', model: 'm', purpose: 'turn', error_type: 'ModelRateLimited' } },
    ]);
    expect(named(recorded, 'infty_model_latency')[0]!.tags.outcome).toBe('error');
    expect(named(recorded, 'infty_model_tokens')).toEqual([]);
  });

  it('a cancelled call is not an error', async () => {
    const { recorded, error } = await execute('modelStep', { role: 'solver', model: 'm' }, async () => {
      throw new CancelledFailure('cancelled');
    });
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(named(recorded, 'infty_model_latency')[0]!.tags.outcome).toBe('cancelled');
    expect(named(recorded, 'infty_model_errors')).toEqual([]);
    const aborted = await execute(
      'runToolCall',
      { role: 'solver', call: { name: 'shell' } },
      async () => {
        throw new Error('aborted');
      },
      { aborted: true },
    );
    expect(named(aborted.recorded, 'infty_tool_latency')[0]!.tags.outcome).toBe('cancelled');
    expect(named(aborted.recorded, 'infty_tool_errors')).toEqual([]);
  });

  it('a tool whose output is an error counts as a tool error; its latency is labelled by tool', async () => {
    // The tool activity's result says whether the tool failed (its digest of the output).
    const call = (result: ToolResult) =>
      execute('runToolCall', { runId: 'r1', role: 'solver', call: { name: 'read_file' } }, async () => ({
        journalKey: 'k',
        bytes: 10,
        ...finalizeToolOutput(result).digest,
      }));
    const missing = await call(errorResult('file not found: missing.txt'));
    expect(named(missing.recorded, 'infty_tool_errors')).toEqual([{ value: 1, tags: { role: 'solver', tool: 'read_file', error_type: 'error_output' } }]);
    expect(named(missing.recorded, 'infty_tool_latency')).toEqual([
      { value: expect.any(Number), tags: { role: 'solver', tool: 'read_file', outcome: 'error' } },
    ]);
    const ok = await call(textResult('line 1'));
    expect(named(ok.recorded, 'infty_tool_errors')).toEqual([]);
    expect(named(ok.recorded, 'infty_tool_latency')[0]!.tags.outcome).toBe('ok');
  });

  it('the older runTool returns the output itself and notes its tool error; a thrown tool failure counts by its type', async () => {
    const legacy = await execute('runTool', { role: 'solver', call: { name: 'list_dir' } }, async (ctx) => {
      noteToolError(ctx, 'interrupted');
      return INTERRUPTED_OUTPUT;
    });
    expect(named(legacy.recorded, 'infty_tool_errors')[0]!.tags.error_type).toBe('interrupted');
    // Its text is not read: only what runTool noted counts.
    const text = await execute('runTool', { role: 'solver', call: { name: 'read_file' } }, async () => 'Error: a text runTool did not note');
    expect(named(text.recorded, 'infty_tool_errors')).toEqual([]);
    expect(named(text.recorded, 'infty_tool_latency')[0]!.tags.outcome).toBe('ok');
    const thrown = await execute('runToolCall', { runId: 'r1', role: 'solver', call: { name: 'apply_patch' } }, async () => {
      throw ApplicationFailure.nonRetryable('too big', 'PayloadTooLarge');
    });
    expect(named(thrown.recorded, 'infty_tool_errors')).toEqual([{ value: 1, tags: { role: 'solver', tool: 'apply_patch', error_type: 'PayloadTooLarge' } }]);
  });

  it('other activities record nothing, and a broken meter never fails an activity', async () => {
    expect((await execute('createRun', { runId: 'r' }, async () => 'created')).recorded).toEqual([]);
    const broken = await execute('modelStep', { role: 'solver', model: 'm' }, async () => ({ usage }), { failingMeter: true });
    expect(broken.result).toEqual({ usage });
    expect(broken.warnings).toEqual(['could not record metrics']);
  });
});

describe('telemetry helpers', () => {
  it('classifies thrown errors', () => {
    expect(errorType(ApplicationFailure.retryable('x', 'ModelUnavailable'))).toBe('ModelUnavailable');
    expect(errorType(new TypeError('x'))).toBe('TypeError');
    expect(errorType('x')).toBe('unknown');
  });

  it('runtime options: Prometheus on 0.0.0.0 only with a port; OTLP traces under /v1/traces', () => {
    expect(runtimeTelemetry({ metricsPort: undefined })).toBeUndefined();
    expect(runtimeTelemetry({ metricsPort: 9464 })?.metrics).toMatchObject({ prometheus: { bindAddress: '0.0.0.0:9464' } });
    expect(runtimeTelemetry({ metricsPort: 9464, host: '127.0.0.1' })?.metrics).toMatchObject({ prometheus: { bindAddress: '127.0.0.1:9464' } });
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
  });
});
