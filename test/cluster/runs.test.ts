/**
 * On production Temporal (PostgreSQL persistence and SQL visibility, set up by docker-compose.yml's
 * scripts): a run with two verifiers, a Director consultation and a failed first verification
 * delivers through the `infty` CLI and an `infty worker`; `infty list --where` finds it by Infty's
 * search attributes and by Temporal's own, and leaves out what the query excludes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli';
import { type FakeModelServer, startFakeModelServer } from '../support/fakeModel';
import { fileContentsUnder } from '../support/files';
import { uniqueId } from '../support/harness';
import { completedTwice } from '../support/runRecords';
import { CRASH_OBJECTIVE, CRASH_RUN_LABELS, CRASH_VERIFIERS, crashRunStep } from '../support/stepScript';
import { until } from '../support/wait';
import { endWorkerProcessTests, WorkerGroup, workerEnv } from '../support/workerProcess';

interface Listed {
  runId: string;
  status: string;
  goalStatus: string;
  tokensUsed: number;
}

describe('runs on production Temporal', () => {
  const address = inject('temporalAddress');
  const workers = new WorkerGroup();
  let model: FakeModelServer;
  let home: string;

  beforeAll(async () => {
    model = await startFakeModelServer({ responder: (req) => crashRunStep(req).reply });
    home = mkdtempSync(join(tmpdir(), 'infty-cluster-runs-'));
  });
  afterAll(() => endWorkerProcessTests({ workers, model, home }));

  it('is the server the compose file describes: PostgreSQL persistence and SQL visibility', async () => {
    const connection = await Connection.connect({ address });
    try {
      const info = await connection.workflowService.getClusterInfo({});
      expect(info.serverVersion).toBe('1.32.0');
      expect(info.persistenceStore).toBe('postgres12');
      expect(info.visibilityStore).toBe('postgres12');
    } finally {
      await connection.close();
    }
  });

  it('a run with verifiers delivers, and `infty list --where` finds it on SQL visibility', async () => {
    const env = workerEnv({ address, taskQueue: uniqueId('tq-runs'), home, modelBaseUrl: model.baseUrl });
    await workers.start(env);
    const runId = uniqueId('cluster-run');
    const verifiers = CRASH_VERIFIERS.flatMap((v) => ['--verifier', v]);
    const t0 = Date.now();
    const created = await runCli(['create', '--run-id', runId, '--objective', CRASH_OBJECTIVE, ...verifiers, '--sandbox', 'none', '--json'], env, 120_000);
    console.log(`cluster: \`infty create\` of the scripted run (${CRASH_RUN_LABELS.length} model steps) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(created.code, created.stderr).toBe(0);
    const outcome = JSON.parse(created.stdout) as { status: string; runId: string };
    expect(outcome).toMatchObject({ runId, status: 'delivered' });
    expect(Object.keys(fileContentsUnder(join(home, 'runs', runId, 'deliverable')))).toEqual(['README.md', 'hello.sh', 'out.txt']);
    // Every scripted model step ran, and none was paid twice.
    expect(model.requests.filter((r) => r.runId === runId && r.status === 'completed')).toHaveLength(CRASH_RUN_LABELS.length);
    expect(completedTwice(model.requests, runId)).toEqual([]);

    // Visibility is written after the fact: the query may need a moment to see the final values.
    const list = async (where: string) => {
      const r = await runCli(['list', '--where', where, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Listed[];
    };
    const found = await until(
      'the run in `infty list --where` with its final search attributes',
      async () => {
        const rows = await list(`WorkflowId = '${runId}' AND InftyGoalStatus = 'complete' AND InftyTokensUsed > 0 AND ExecutionStatus = 'Completed'`);
        return rows.length === 1 ? rows[0] : undefined;
      },
      30_000,
    );
    expect(found).toMatchObject({ runId, goalStatus: 'complete' });
    expect(found.tokensUsed).toBeGreaterThan(0);
    expect(await list(`WorkflowId = '${runId}' AND InftyGoalStatus = 'paused'`)).toEqual([]);
    expect(await list(`WorkflowId = '${runId}' AND InftyTokensUsed > ${found.tokensUsed}`)).toEqual([]);
  });
});
