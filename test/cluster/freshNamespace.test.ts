/**
 * A fresh namespace with none of Infty's search attributes (created the way an operator would, with
 * the temporal CLI): `infty worker` registers them at its start, and a run started the moment it
 * polls is accepted and delivers; `infty run`'s embedded worker does the same on another fresh
 * namespace; and the compose's create-namespace.sh, once it says "ready", leaves a namespace where a
 * run starts at once. On SQL visibility the frontend's namespace cache lags behind a registration
 * by a second or two (docs/cluster-test.md): these tests are where that shows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../../src/client';
import { conversationOf } from '../../src/fakeModel/conversation';
import { requireTemporalCli } from '../../src/temporalCli';
import { runCli } from '../support/cli';
import { type FakeModelServer, startFakeModelServer } from '../support/fakeModel';
import { uniqueId } from '../support/harness';
import { outcomeWithin } from '../support/outcome';
import { addFile, deliver, tools } from '../support/replies';
import { modelReplies } from '../support/stepScript';
import { until } from '../support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, workerEnv } from '../support/workerProcess';
import { runNamespaceJob } from './cluster';

describe('a fresh namespace', () => {
  const address = inject('temporalAddress');
  const workers = new WorkerGroup();
  const homes: string[] = [];
  let model: FakeModelServer;

  beforeAll(async () => {
    // Solver: writes the deliverable, then delivers it (no verifiers).
    model = await startFakeModelServer({
      responder: (req) =>
        modelReplies(conversationOf(req)) === 0 ? tools(addFile('deliverable/answer.txt', [req.runId ?? '?'])) : deliver('deliverable/answer.txt'),
    });
  });
  afterAll(async () => {
    await workers.killAll();
    await killAllStartedWorkers();
    await model?.close();
    removePinnedWorkflowBundle();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  /** A namespace that exists and answers, with no custom search attribute. */
  async function freshNamespace(): Promise<string> {
    const namespace = uniqueId('ns');
    const created = spawnSync(await requireTemporalCli(), ['operator', 'namespace', 'create', '--namespace', namespace, '--address', address], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(created.status, `${created.stdout}${created.stderr}`).toBe(0);
    const connection = await Connection.connect({ address });
    try {
      const attributes = await until(`namespace ${namespace} to answer`, () =>
        connection.operatorService.listSearchAttributes({ namespace }).then(
          (r) => r,
          () => undefined,
        ),
      );
      expect(Object.keys(attributes.customAttributes ?? {}).filter((a) => a.startsWith('Infty'))).toEqual([]);
    } finally {
      await connection.close();
    }
    return namespace;
  }

  function envFor(namespace: string) {
    const home = mkdtempSync(join(tmpdir(), 'infty-cluster-ns-'));
    homes.push(home);
    return { ...workerEnv({ address, taskQueue: uniqueId('tq-ns'), home, modelBaseUrl: model.baseUrl }), TEMPORAL_NAMESPACE: namespace };
  }

  it('`infty worker` registers the search attributes, and a run started as it polls delivers', async () => {
    const namespace = await freshNamespace();
    const env = envFor(namespace);
    await workers.start(env);
    const runId = uniqueId('ns-run');
    const created = await runCli(
      ['create', '--run-id', runId, '--objective', 'Write your run id to deliverable/answer.txt.', '--no-verifiers', '--sandbox', 'none'],
      env,
      90_000,
    );
    expect(created.code, `${created.stdout}\n${created.stderr}`).toBe(0);
    const listed = await until('the run in `infty list --where`', async () => {
      const r = await runCli(['list', '--where', `WorkflowId = '${runId}' AND InftyGoalStatus = 'complete'`, '--json'], env);
      const rows = r.code === 0 ? (JSON.parse(r.stdout) as { runId: string }[]) : [];
      return rows.length === 1 ? rows : undefined;
    });
    expect(listed[0]!.runId).toBe(runId);
  });

  it('once create-namespace.sh says "ready", a run with Infty\'s search attributes starts at once', async () => {
    const namespace = uniqueId('ns-job');
    expect(runNamespaceJob(inject('cluster'), namespace)).toContain(`Namespace ${namespace} is ready`);
    // What the compose stack does next: a worker starts, or a run is started from the host.
    const env = envFor(namespace);
    const infty = await InftyClient.connect({ address, namespace, taskQueue: env.INFTY_TASK_QUEUE });
    try {
      const runId = uniqueId('ns-job-run');
      await infty.startRun({ runId, objective: 'Write your run id to deliverable/answer.txt.', verifiers: [], sandbox: 'none' });
      await workers.start(env);
      expect((await outcomeWithin(infty, runId, 60_000)).status).toBe('delivered');
    } finally {
      await infty.close();
    }
  });

  it("`infty run`'s embedded worker registers them, and its run delivers", async () => {
    const namespace = await freshNamespace();
    const env = envFor(namespace);
    const r = await runCli(['run', 'Write your run id to deliverable/answer.txt.', '--no-verifiers', '--sandbox', 'none'], env, 90_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('delivered');
  });
});
