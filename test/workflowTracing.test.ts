/**
 * Workflow spans across an upgrade (docs/architecture.md, "Workflow tracing"): a run begun by a
 * worker whose bundle has no workflow interceptors (the code before workflow tracing) moves, mid-step,
 * to a worker with them and a signal arrives there; it finishes without a workflow task failure and
 * never starts tracing halfway. A run a traced `infty` command starts on the new worker is one trace,
 * signal included; a run started by a client that does not trace has no workflow spans.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { conversationOf } from '../src/fakeModel/conversation';
import { workflowsPath } from '../src/workflowBundle';
import { WORKFLOW_TRACING_PATCH } from '../src/workflows/tracing';
import { runCli } from './support/cli';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { patchIds } from './support/history';
import { type OtlpCollector, startOtlpCollector } from './support/otlpCollector';
import { outcomeWithin } from './support/outcome';
import { deliver, shell, tools, verdict } from './support/replies';
import { modelReplies } from './support/stepScript';
import { until } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, workerEnv } from './support/workerProcess';

describe('workflow tracing across an upgrade', () => {
  const address = inject('temporalAddress');
  const group = new WorkerGroup();
  let home: string;
  let scratch: string;
  let untracedBundle: string;
  let model: FakeModelServer;
  let collector: OtlpCollector;
  /** Solver step 1 of these runs waits until released; every attempt of it reaching the model is counted. */
  const held = new Map<string, { release: () => void; released: Promise<void>; requests: number }>();

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'infty-wftrace-'));
    scratch = mkdtempSync(join(tmpdir(), 'infty-wftrace-bundle-'));
    // The same workflows without the interceptor module: the workflow code of the release before.
    const { code } = await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    });
    untracedBundle = join(scratch, 'untraced-workflow-bundle.js');
    writeFileSync(untracedBundle, code);
    collector = await startOtlpCollector();
    model = await startFakeModelServer({
      responder: async (req): Promise<ScriptedReply> => {
        if (req.role !== 'solver') return verdict('pass', ['out.txt names the run']);
        const step = modelReplies(conversationOf(req));
        const gate = held.get(req.runId ?? '');
        if (step === 1 && gate) {
          gate.requests += 1;
          await gate.released;
        }
        return step === 0 ? tools(shell(`echo ${req.runId} > out.txt`)) : deliver('out.txt');
      },
    });
  }, 120_000);

  afterAll(async () => {
    await group.killAll();
    await killAllStartedWorkers();
    await model?.close();
    await collector?.close();
    removePinnedWorkflowBundle();
    for (const dir of [home, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function hold(runId: string) {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const gate = { release, released, requests: 0 };
    held.set(runId, gate);
    return gate;
  }

  it('a run begun before workflow tracing finishes untraced on a tracing worker; a traced start is one trace, an untraced one has no workflow spans', async () => {
    const taskQueue = uniqueId('tq-wftrace');
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint };
    const env = (extra: Record<string, string>) =>
      workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_STORAGE: 'shared', INFTY_WORKER_ID: uniqueId('w'), ...otel, ...extra });
    const cliEnv = { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue, INFTY_HOME: home, ...otel };
    const create = async (runId: string) => {
      const r = await runCli(
        ['create', '--objective', 'Write your run id to out.txt and deliver it.', '--run-id', runId, '--sandbox', 'none', '--verifier', 'alpha', '--detach'],
        cliEnv,
      );
      expect(r.code, r.stderr).toBe(0);
    };
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    /** Sends a steer signal through the traced CLI and waits until the workflow handled it. */
    const steer = async (runId: string) => {
      const r = await runCli(['steer', runId, 'Keep out.txt to one line.'], cliEnv);
      expect(r.code, r.stderr).toBe(0);
      await until('the signal handled', async () => ((await infty.progress(runId)).events.some((e) => e.kind === 'steer') ? true : undefined), 30_000);
    };
    try {
      // The old worker starts the run; its Solver's second step is in flight when it dies.
      const old = await group.start(env({ INFTY_WORKFLOW_BUNDLE: untracedBundle }));
      const before = uniqueId('before');
      const beforeGate = hold(before);
      await create(before);
      await until('the old worker at step 1', () => (beforeGate.requests === 1 ? true : undefined), 30_000);
      await old.kill();

      // The new worker takes the step over (heartbeat timeout) and, mid-step, gets a signal.
      const current = await group.start(env({}));
      await until('the step retried on the new worker', () => (beforeGate.requests === 2 ? true : undefined), 30_000);
      await steer(before);
      beforeGate.release();
      expect((await outcomeWithin(infty, before, 60_000)).status).toBe('delivered');

      // A run begun on the new worker, signalled mid-step as well.
      const after = uniqueId('after');
      const afterGate = hold(after);
      await create(after);
      await until('the new run at step 1', () => (afterGate.requests === 1 ? true : undefined), 30_000);
      await steer(after);
      afterGate.release();
      expect((await outcomeWithin(infty, after, 60_000)).status).toBe('delivered');

      // A run started by a client that does not trace (no sampled trace context): no workflow spans.
      const plain = uniqueId('plain');
      await infty.startRun({ runId: plain, objective: 'Write your run id to out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
      expect((await outcomeWithin(infty, plain, 60_000)).status).toBe('delivered');

      const history = async (runId: string) => (await infty.client.workflow.getHandle(runId).fetchHistory()).events ?? [];
      const beforeEvents = await history(before);
      const afterEvents = await history(after);
      // Both replayed or ran without a nondeterminism failure; only the new run switched tracing on.
      for (const events of [beforeEvents, afterEvents])
        expect(events.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
      expect(patchIds(beforeEvents)).not.toContain(WORKFLOW_TRACING_PATCH);
      expect(patchIds(afterEvents)).toContain(WORKFLOW_TRACING_PATCH);
      expect(patchIds(await history(plain))).not.toContain(WORKFLOW_TRACING_PATCH);

      // The worker flushes its spans when it stops; the CLI flushed its own when each command ended.
      await current.stop();
      const spans = collector.spans();
      expect(collector.rejected()).toEqual([]);
      const ofWorkflow = (runId: string) => spans.filter((s) => s.service === 'infty-worker' && s.attributes.workflowId === runId);
      const client = (runId: string, name: string) =>
        spans.filter((s) => s.service === 'infty-cli' && s.name === name && s.attributes.temporalWorkflowId === runId);

      // Before: activity spans only, each its own root, even for the steps the tracing worker ran.
      expect(ofWorkflow(before).map((s) => s.name)).toEqual([]);
      const beforeActivities = spans.filter((s) => s.attributes.temporalWorkflowId === before && s.name.startsWith('RunActivity:'));
      // The old worker was SIGKILLed with its spans unsent; the new one ran the retried step and the Verifier.
      expect(beforeActivities.filter((s) => s.name === 'RunActivity:modelStep').length).toBeGreaterThanOrEqual(2);
      for (const s of beforeActivities) expect(s.parentSpanId, s.name).toBeUndefined();

      // Plain: the tracing worker still sends its activity spans, each the root of its own trace.
      expect(ofWorkflow(plain).map((s) => s.name)).toEqual([]);
      const plainActivities = spans.filter((s) => s.attributes.temporalWorkflowId === plain && s.name.startsWith('RunActivity:'));
      expect(plainActivities.length).toBeGreaterThanOrEqual(4);
      for (const s of plainActivities) expect(s.parentSpanId, s.name).toBeUndefined();

      // After: StartWorkflow → RunWorkflow → StartActivity → RunActivity, and the signal under the CLI's SignalWorkflow.
      const [start] = client(after, 'StartWorkflow:inftyRun');
      const [signal] = client(after, 'SignalWorkflow:steer');
      expect(start, spans.map((s) => s.name).join(', ')).toBeDefined();
      expect(signal).toBeDefined();
      const names = ofWorkflow(after).map((s) => s.name);
      const runWorkflow = ofWorkflow(after).filter((s) => s.name === 'RunWorkflow:inftyRun');
      expect(runWorkflow, names.join(', ')).toHaveLength(1);
      expect(runWorkflow[0]!.parentSpanId).toBe(start!.spanId);
      const handled = ofWorkflow(after).filter((s) => s.name === 'HandleSignal:steer');
      expect(handled, names.join(', ')).toHaveLength(1);
      expect(handled[0]!.parentSpanId).toBe(signal!.spanId);
      const afterActivities = spans.filter((s) => s.attributes.temporalWorkflowId === after && s.name.startsWith('RunActivity:'));
      expect(afterActivities.length).toBeGreaterThanOrEqual(4);
      for (const s of afterActivities) {
        expect(s.traceId, s.name).toBe(start!.traceId);
        expect(spans.find((p) => p.spanId === s.parentSpanId)?.name, s.name).toBe(s.name.replace('RunActivity:', 'StartActivity:'));
      }
    } finally {
      await infty.close();
    }
  }, 240_000);
});
