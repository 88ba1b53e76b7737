/**
 * Metrics and traces (docs/interface.md §14) from real `infty worker` and `infty
 * create` processes: the worker's Prometheus endpoint (INFTY_METRICS_PORT) serves Temporal's
 * task-queue metrics and Infty's per-role token, latency and error metrics; with
 * OTEL_EXPORTER_OTLP_ENDPOINT the CLI and the worker send their spans to an OTLP collector.
 * Needs `npm run build` (the children run dist/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { freePort } from '../src/server';
import { runCli } from './support/cli';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer, type Usage } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { type OtlpCollector, startOtlpCollector } from './support/otlpCollector';
import { outcomeWithin } from './support/outcome';
import { deliver, shell, tools, verdict, withUsage } from './support/replies';
import { until } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, workerEnv } from './support/workerProcess';

const SOLVER_TOOLS: Usage = { inputTokens: 1200, cachedInputTokens: 300, outputTokens: 80, reasoningTokens: 25 };
const SOLVER_DELIVER: Usage = { inputTokens: 1500, cachedInputTokens: 1100, outputTokens: 40, reasoningTokens: 7 };
const VERIFIER: Usage = { inputTokens: 900, cachedInputTokens: 0, outputTokens: 60, reasoningTokens: 33 };

/** One sample of the Prometheus text format: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `match`. */
function total(samples: Sample[], name: string, match: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

describe('telemetry', () => {
  const address = inject('temporalAddress');
  const group = new WorkerGroup();
  let home: string;
  let model: FakeModelServer;
  /** Usage of every reply the fake model served, by role. */
  const served = new Map<string, Usage[]>();

  const answered =
    (role: string, usage: Usage, reply: ScriptedReply) =>
    (req: RecordedRequest): ScriptedReply => {
      served.set(`${req.runId}/${role}`, [...(served.get(`${req.runId}/${role}`) ?? []), usage]);
      return withUsage(reply, usage);
    };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'infty-telemetry-'));
    // Each run: the Solver reads a missing file (a tool error) and writes out.txt, then delivers; one Verifier passes it.
    const responders = new Map<string, ReturnType<typeof scriptByRole>>();
    model = await startFakeModelServer({
      responder: (req) => {
        const runId = req.runId ?? '';
        let script = responders.get(runId);
        if (!script) {
          script = scriptByRole({
            solver: [
              answered('solver', SOLVER_TOOLS, tools({ name: 'read_file', arguments: { path: 'missing.txt' } }, shell('echo done > out.txt'))),
              answered('solver', SOLVER_DELIVER, deliver('out.txt')),
            ],
            // A server error first: one failed attempt (ModelUnavailable), retried by Temporal.
            'verifier*': [{ kind: 'fault', fault: { kind: 'http', status: 500 } }, answered('verifier-alpha', VERIFIER, verdict('pass', ['out.txt is there']))],
          });
          responders.set(runId, script);
        }
        return script(req);
      },
    });
  });

  afterAll(async () => {
    await group.killAll();
    await killAllStartedWorkers();
    await model?.close();
    removePinnedWorkflowBundle();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  function env(taskQueue: string, extra: Record<string, string>): WorkerEnv {
    return workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_STORAGE: 'shared', INFTY_WORKER_ID: uniqueId('w'), ...extra });
  }

  const sum = (runId: string, role: string, key: keyof Usage) => (served.get(`${runId}/${role}`) ?? []).reduce((n, u) => n + (u[key] as number), 0);

  it('a worker with INFTY_METRICS_PORT serves Temporal task-queue metrics and per-role token, latency and error metrics', async () => {
    const taskQueue = uniqueId('tq-metrics');
    const port = await freePort();
    await group.start(env(taskQueue, { INFTY_METRICS_PORT: String(port) }));
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    const runId = uniqueId('metrics');
    try {
      await infty.startRun({ runId, objective: 'Write out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
      const outcome = await outcomeWithin(infty, runId, 60_000);
      expect(outcome.status).toBe('delivered');
    } finally {
      await infty.close();
    }
    expect(served.get(`${runId}/solver`)).toHaveLength(2);
    expect(served.get(`${runId}/verifier-alpha`)).toHaveLength(1);

    const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    // The runtime exports on its own schedule: wait until the last activity's metrics are in.
    const samples = await until(
      'the run in the metrics',
      async () => {
        const s = await scrape();
        return total(s, 'infty_model_latency_count', { role: 'verifier-alpha' }) > 0 && total(s, 'infty_model_tokens', { role: 'verifier-alpha' }) > 0
          ? s
          : undefined;
      },
      20_000,
    );

    // Temporal's own worker metrics, labelled with the task queue.
    const temporal = samples.filter((s) => s.name.startsWith('temporal_') && s.labels.task_queue === taskQueue);
    const names = new Set(temporal.map((s) => s.name));
    expect(
      [...names].some((n) => /^temporal_activity_(schedule_to_start|execution)_latency/.test(n)),
      [...names].join(', '),
    ).toBe(true);
    expect(
      [...names].some((n) => /^temporal_workflow_task_schedule_to_start_latency/.test(n)),
      [...names].join(', '),
    ).toBe(true);

    // Tokens per role: exactly what the scripted model reported.
    for (const role of ['solver', 'verifier-alpha']) {
      const of = (kind: string) => total(samples, 'infty_model_tokens', { role, kind, purpose: 'turn', model: 'gpt-5.1' });
      expect({ role, input: of('input'), cached: of('cached_input'), output: of('output'), reasoning: of('reasoning') }).toEqual({
        role,
        input: sum(runId, role, 'inputTokens'),
        cached: sum(runId, role, 'cachedInputTokens'),
        output: sum(runId, role, 'outputTokens'),
        reasoning: sum(runId, role, 'reasoningTokens'),
      });
    }
    expect(total(samples, 'infty_model_tokens', { role: 'solver', kind: 'input' })).toBe(SOLVER_TOOLS.inputTokens + SOLVER_DELIVER.inputTokens);

    // Dollars per role (infty_model_cost_usd, a float histogram: _sum is the dollars, _count the priced calls), as the price table says.
    const price = (u: Usage) =>
      Number(calcPrice({ input_tokens: u.inputTokens, cache_read_tokens: u.cachedInputTokens, output_tokens: u.outputTokens }, 'gpt-5.1')!.total_price);
    expect(total(samples, 'infty_model_cost_usd_sum', { role: 'solver', purpose: 'turn', model: 'gpt-5.1' })).toBeCloseTo(
      price(SOLVER_TOOLS) + price(SOLVER_DELIVER),
      9,
    );
    expect(total(samples, 'infty_model_cost_usd_count', { role: 'solver' })).toBe(2);
    expect(total(samples, 'infty_model_cost_usd_sum', { role: 'verifier-alpha' })).toBeCloseTo(price(VERIFIER), 9);
    expect(total(samples, 'infty_model_unpriced_calls', {})).toBe(0);

    // Model latency: every attempt, per role.
    expect(total(samples, 'infty_model_latency_count', { role: 'solver', outcome: 'ok' })).toBe(2);
    expect(total(samples, 'infty_model_latency_count', { role: 'verifier-alpha', outcome: 'ok' })).toBe(1);
    expect(total(samples, 'infty_model_latency_count', { role: 'verifier-alpha', outcome: 'error' })).toBe(1);
    expect(total(samples, 'infty_model_errors', { role: 'verifier-alpha', purpose: 'turn', error_type: 'ModelUnavailable' })).toBe(1);
    expect(total(samples, 'infty_model_errors', { role: 'solver' })).toBe(0);

    // Tool latency by tool name; read_file of a missing path is a tool error (its output is "Error: …").
    expect(total(samples, 'infty_tool_latency_count', { role: 'solver', tool: 'shell', outcome: 'ok' })).toBe(1);
    expect(total(samples, 'infty_tool_latency_count', { role: 'solver', tool: 'read_file', outcome: 'error' })).toBe(1);
    expect(total(samples, 'infty_tool_errors', { role: 'solver', tool: 'read_file', error_type: 'error_output' })).toBe(1);
    expect(total(samples, 'infty_tool_errors', { tool: 'shell' })).toBe(0);
    // The SDK's activity metric meter adds its own tags (camelCase, unlike Temporal's core metrics).
    const tokenSample = samples.find((s) => s.name === 'infty_model_tokens' && s.labels.role === 'solver');
    expect(tokenSample?.labels).toMatchObject({ namespace: 'default', taskQueue, activityType: 'modelStep' });

    // Another process on this host with the same INFTY_METRICS_PORT goes on without metrics, and says so.
    const second = await runCli(
      ['create', '--objective', 'Write out.txt and deliver it.', '--run-id', uniqueId('metrics-2'), '--sandbox', 'none', '--no-verifiers', '--detach'],
      { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue, INFTY_HOME: home, INFTY_METRICS_PORT: String(port) },
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`metrics are off in this process`);
  });

  it('refuses a malformed OTEL_EXPORTER_OTLP_ENDPOINT, INFTY_METRICS_PORT or OPENAI_BASE_URL with exit 2, before connecting', async () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', INFTY_HOME: home };
    const cases: [string[], Record<string, string>, string][] = [
      [['list'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'not-a-url' }, "OTEL_EXPORTER_OTLP_ENDPOINT must be the collector's OTLP/HTTP base URL"],
      [['worker'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' }, 'got "grpc://collector:4317"'],
      [['worker'], { INFTY_METRICS_PORT: '70000' }, 'INFTY_METRICS_PORT must be a port number'],
      [['worker'], { INFTY_METRICS_PORT: 'nine' }, 'INFTY_METRICS_PORT must be a positive whole number'],
      [['create', '--objective', 'x'], { OPENAI_BASE_URL: 'localhost:8000/v1' }, "OPENAI_BASE_URL must be the model endpoint's base URL"],
    ];
    for (const [args, extra, message] of cases) {
      const r = await runCli(args, { ...env, ...extra }, 20_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('unexpected error');
    }
  });

  it('with OTEL_EXPORTER_OTLP_ENDPOINT the CLI and the worker send their spans to the collector', async () => {
    const collector: OtlpCollector = await startOtlpCollector();
    try {
      const taskQueue = uniqueId('tq-traces');
      const worker = await group.start(env(taskQueue, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint }));
      const runId = uniqueId('traces');
      const cli = await runCli(
        ['create', '--objective', 'Write out.txt and deliver it.', '--run-id', runId, '--sandbox', 'none', '--verifier', 'alpha', '--json'],
        { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue, INFTY_HOME: home, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint },
        90_000,
      );
      expect(cli.code, cli.stderr).toBe(0);
      expect(JSON.parse(cli.stdout).status).toBe('delivered');
      // The CLI flushed its spans before it exited; the worker flushes when it stops.
      await worker.stop();

      const spans = collector.spans();
      expect(collector.rejected()).toEqual([]);
      const start = spans.filter((s) => s.name === 'StartWorkflow:inftyRun' && s.attributes.temporalWorkflowId === runId);
      expect(start, spans.map((s) => s.name).join(', ')).toHaveLength(1);
      expect(start[0]!.service).toBe('infty-cli');
      // The CLI followed the run with progress queries: same process, spans of its own.
      expect(spans.some((s) => s.name === 'QueryWorkflow:progress' && s.service === 'infty-cli')).toBe(true);

      const ofRun = spans.filter((s) => s.service === 'infty-worker' && s.attributes.temporalWorkflowId === runId);
      const count = (name: string) => ofRun.filter((s) => s.name === name).length;
      // Two Solver steps, and the Verifier's failed attempt and its retry.
      expect(count('RunActivity:modelStep'), ofRun.map((s) => s.name).join(', ')).toBe(4);
      expect(ofRun.filter((s) => s.name === 'RunActivity:modelStep' && s.statusCode === 2)).toHaveLength(1);
      expect(count('RunActivity:runToolCall')).toBe(2);
      expect(count('RunActivity:createRun')).toBe(1);
      // One trace from the CLI's StartWorkflow through the workflow to each activity attempt:
      // StartWorkflow → RunWorkflow:inftyRun → StartActivity:X → RunActivity:X.
      const traceId = start[0]!.traceId;
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      // Workflow spans carry the SDK's workflow info as attributes (workflowId, not temporalWorkflowId).
      const runWorkflow = spans.filter((s) => s.name === 'RunWorkflow:inftyRun' && s.attributes.workflowId === runId);
      expect(runWorkflow, spans.map((s) => s.name).join(', ')).toHaveLength(1);
      expect(runWorkflow[0]!.service).toBe('infty-worker');
      expect(runWorkflow[0]!.parentSpanId).toBe(start[0]!.spanId);
      expect(spans.filter((s) => s.name === 'StartActivity:createRun' && s.traceId === traceId)).toHaveLength(1);
      for (const s of ofRun) {
        expect(s.traceId, s.name).toBe(traceId);
        if (!s.name.startsWith('RunActivity:')) continue;
        const parent = byId.get(s.parentSpanId ?? '');
        expect(parent?.name, s.name).toBe(s.name.replace('RunActivity:', 'StartActivity:'));
        expect(byId.get(parent!.parentSpanId ?? '')?.name).toBe('RunWorkflow:inftyRun');
      }
      // A retried attempt runs under the same StartActivity span as the attempt that failed.
      const failed = ofRun.find((s) => s.name === 'RunActivity:modelStep' && s.statusCode === 2)!;
      expect(ofRun.filter((s) => s.parentSpanId === failed.parentSpanId)).toHaveLength(2);
    } finally {
      await collector.close();
    }
  });
});
