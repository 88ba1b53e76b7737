/**
 * Safe upgrades with Worker Versioning (docs/architecture.md "Worker Versioning"), on the suite's
 * real Temporal server with two `infty worker` processes of different builds: build A becomes the
 * deployment's first current version by itself; a run R1 starts on A and is held mid-run; build B
 * starts, says it is not current and prints the official command to promote it; that command
 * (the temporal CLI) makes B current; a new run R2 starts; R1 is released. Every workflow task and
 * activity of R1 ran on A and every one of R2 on B, as the decoded histories show.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { requireTemporalCli } from '../src/temporalCli';
import { runCli } from './support/cli';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { outcomeWithin } from './support/outcome';
import { addFile, deliver, tools } from './support/replies';
import { until } from './support/wait';
import {
  killAllStartedWorkers,
  pinnedWorkflowBundle,
  removePinnedWorkflowBundle,
  type WorkerEnv,
  WorkerGroup,
  type WorkerProcess,
} from './support/workerProcess';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const DELIVERABLE = 'deliverable/answer.txt';
const BUILD_A = 'build-a';
const BUILD_B = 'build-b';

describe('Worker Versioning: a run finishes on the build it started on', () => {
  const address = inject('temporalAddress');
  const cleanups: (() => unknown)[] = [];
  const workers = new WorkerGroup();
  let model: FakeModelServer;
  let infty: InftyClient;
  /** Per run: the reply to the Solver's second step waits for this (R1 is held there). */
  const gates = new Map<string, Promise<void>>();
  const held = new Set<string>();

  /** Each run: one tool call (an activity on the owner queue), then the delivery. */
  function reply(req: RecordedRequest): ScriptedReply | Promise<ScriptedReply> {
    const outputs = (req.body.input as { type?: string }[]).filter((i) => i.type === 'function_call_output').length;
    if (outputs === 0) return tools(addFile(DELIVERABLE, [req.runId ?? '?']));
    const gate = req.runId ? gates.get(req.runId) : undefined;
    if (!gate) return deliver(DELIVERABLE);
    held.add(req.runId!);
    return gate.then(() => deliver(DELIVERABLE));
  }

  beforeAll(async () => {
    model = await startFakeModelServer({ responder: (req) => reply(req) });
    cleanups.push(() => model.close());
  });
  afterAll(async () => {
    await workers.killAll();
    await killAllStartedWorkers();
    for (const c of cleanups.reverse()) await c();
    removePinnedWorkflowBundle();
  });

  it('pins R1 to build A while build B, made current, takes R2', async () => {
    const deploymentName = uniqueId('dep');
    const taskQueue = uniqueId('tq-ver');
    infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    cleanups.push(() => infty.close());
    const envFor = (workerId: string, buildId: string): WorkerEnv => {
      const home = mkdtempSync(join(tmpdir(), `infty-ver-${workerId}-`));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      return {
        TEMPORAL_ADDRESS: address,
        INFTY_TASK_QUEUE: taskQueue,
        INFTY_HOME: home,
        OPENAI_BASE_URL: model.baseUrl,
        INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle(),
        INFTY_WORKER_ID: workerId,
        INFTY_DEPLOYMENT_NAME: deploymentName,
        INFTY_BUILD_ID: buildId,
      };
    };
    const said = (w: WorkerProcess, text: string) => until(`worker to say "${text}"\n${w.output()}`, () => (w.output().includes(text) ? true : undefined));

    // Build A, the deployment's first version, makes itself current.
    const a = await workers.start(envFor('wa', BUILD_A));
    expect(a.output()).toContain(`as build ${BUILD_A} of Worker Deployment "${deploymentName}" (pinned)`);
    await said(a, `build ${BUILD_A} of Worker Deployment "${deploymentName}" is now the current version`);

    // R1 starts on A and is held at its second model step, after its tool call ran.
    const r1 = uniqueId('ver-r1');
    let release: () => void = () => undefined;
    gates.set(r1, new Promise<void>((r) => (release = r)));
    await infty.startRun({ runId: r1, objective: 'Pinned to A', verifiers: [], sandbox: 'none' });
    await until('R1 to be held', () => (held.has(r1) ? true : undefined));

    // Build B is not current and says how to promote it: with the official command, which must
    // leave A's owner queue (still busy with R1's activities) out of the new version.
    const b = await workers.start(envFor('wb', BUILD_B));
    const command = `temporal worker deployment set-current-version --deployment-name ${deploymentName} --build-id ${BUILD_B} --ignore-missing-task-queues`;
    await said(b, `build ${BUILD_B} of Worker Deployment "${deploymentName}" is not current (current: ${BUILD_A})`);
    expect(b.output()).toContain(`this build does not poll ${taskQueue}@wa (`);
    expect(b.output()).toContain(`to promote it: ${command}\n`);
    const promoted = spawnSync(await requireTemporalCli(), [...command.split(' ').slice(1), '--yes'], {
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(promoted.status, `${promoted.stdout}\n${promoted.stderr}`).toBe(0);
    await until('B to be current everywhere', async () => {
      const d = await infty.connection.workflowService.describeWorkerDeployment({ namespace: 'default', deploymentName });
      const routing = d.workerDeploymentInfo?.routingConfig;
      const done = d.workerDeploymentInfo?.routingConfigUpdateState !== 1; // ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS
      return routing?.currentDeploymentVersion?.buildId === BUILD_B && done ? true : undefined;
    });

    // R2 starts on B and finishes while R1 still waits on A.
    const r2 = uniqueId('ver-r2');
    await infty.startRun({ runId: r2, objective: 'Starts on B', verifiers: [], sandbox: 'none' });
    expect(await outcomeWithin(infty, r2, 60_000, () => b.output())).toMatchObject({ runId: r2, status: 'delivered' });
    const pinned = (await infty.handle(r1).describe()).raw.workflowExecutionInfo?.versioningInfo;
    expect(pinned?.behavior).toBe(1); // VERSIONING_BEHAVIOR_PINNED
    expect(pinned?.deploymentVersion).toMatchObject({ deploymentName, buildId: BUILD_A });
    // `infty show` says which build a run is pinned to, as text and as JSON.
    const showEnv = { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue };
    for (const [runId, build] of [
      [r1, BUILD_A],
      [r2, BUILD_B],
    ] as const) {
      const shown = await runCli(['show', runId], showEnv);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain(`version:   pinned to ${deploymentName}/${build}\n`);
      const json = await runCli(['show', runId, '--json'], showEnv);
      expect(JSON.parse(json.stdout).versioning).toEqual({ behavior: 'pinned', deploymentName, buildId: build, override: false });
    }

    release();
    const o1 = await outcomeWithin(infty, r1, 60_000, () => a.output());
    expect(o1).toMatchObject({ runId: r1, status: 'delivered' });
    // R1's files are on A's disk (its worker's INFTY_HOME), not B's.
    if (o1.status === 'delivered') expect(readFileSync(o1.deliverablePath, 'utf8')).toBe(`${r1}\n`);

    for (const [runId, build, worker] of [
      [r1, BUILD_A, 'wa'],
      [r2, BUILD_B, 'wb'],
    ] as const) {
      const events = ((await infty.handle(runId).fetchHistory()).events ?? []) as HistoryEvent[];
      const tasks = events.flatMap((e) => (e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes] : []));
      const activities = events.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : []));
      expect(tasks.length, runId).toBeGreaterThan(2);
      expect(activities.length, runId).toBeGreaterThan(2);
      expect(
        tasks.map((t) => `${t.deploymentVersion?.deploymentName}/${t.deploymentVersion?.buildId} ${t.versioningBehavior} ${t.identity?.split(':')[0]}`),
      ).toEqual(tasks.map(() => `${deploymentName}/${build} 1 ${worker}`));
      expect(activities.map((t) => t.identity?.split(':')[0])).toEqual(activities.map(() => worker));
    }
  }, 120_000);

  it('refuses a bad build id, deployment name or behavior with exit 2, before connecting', async () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', INFTY_HOME: tmpdir() };
    const cases: [string[], Record<string, string>, string][] = [
      [['worker', '--build-id', 'has space'], {}, '--build-id must be'],
      [['worker', '--build-id', 'b1', '--deployment-name', 'with.dot'], {}, '--deployment-name must be'],
      [['worker'], { INFTY_BUILD_ID: '__reserved' }, 'INFTY_BUILD_ID must be'],
      [['worker'], { INFTY_VERSIONING_BEHAVIOR: 'sometimes' }, 'INFTY_VERSIONING_BEHAVIOR must be "pinned"'],
    ];
    for (const [args, extra, message] of cases) {
      const r = await runCli(args, { ...env, ...extra }, 20_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
