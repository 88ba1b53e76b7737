/**
 * The Temporal server SIGKILLed mid-run (PostgreSQL keeps what it had committed) and started again
 * with the same environment: the run delivers on the same worker, no command ran twice and no
 * model step was paid twice.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../../src/client';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from '../support/fakeModel';
import { uniqueId } from '../support/harness';
import { outcomeWithin } from '../support/outcome';
import { completedTwice } from '../support/runRecords';
import { CRASH_OBJECTIVE, CRASH_RUN_LABELS, CRASH_VERIFIERS, crashRunStep, SHELL_STEP_LABELS } from '../support/stepScript';
import { sleep } from '../support/wait';
import { endWorkerProcessTests, WorkerGroup, workerEnv } from '../support/workerProcess';
import { killServer, startServer } from './cluster';

describe('a server kill -9 mid-run', () => {
  const address = inject('temporalAddress');
  const cluster = inject('cluster');
  const workers = new WorkerGroup();
  let model: FakeModelServer;
  let home: string;
  let reachedKillPoint: () => void = () => undefined;
  const killPoint = new Promise<void>((r) => (reachedKillPoint = r));
  let directorCalls = 0;

  beforeAll(async () => {
    model = await startFakeModelServer({
      responder: (req): ScriptedReply | Promise<ScriptedReply> => {
        const { label, reply } = crashRunStep(req);
        if (label === 'director#0' && ++directorCalls === 1) {
          // The server dies while this call is in flight; the reply arrives while it is down.
          reachedKillPoint();
          return sleep(3_000).then(() => reply);
        }
        return reply;
      },
    });
    home = mkdtempSync(join(tmpdir(), 'infty-cluster-kill-'));
  });
  afterAll(() => endWorkerProcessTests({ workers, model, home }));

  it('loses nothing: the run delivers once the server is back', async () => {
    const taskQueue = uniqueId('tq-kill');
    const worker = await workers.start(workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }));
    let infty = await InftyClient.connect({ address, namespace: cluster.namespace, taskQueue });
    const runId = uniqueId('server-kill');
    await infty.startRun({ runId, objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' });
    await killPoint;
    await infty.close();
    const downAt = Date.now();
    await killServer(cluster, 'SIGKILL');
    await sleep(2_000); // stays down past the model reply
    await startServer(cluster);
    const upAt = Date.now();
    infty = await InftyClient.connect({ address, namespace: cluster.namespace, taskQueue });
    try {
      const outcome = await outcomeWithin(infty, runId, 120_000, () => `worker:\n${worker.output()}`);
      console.log(
        `server kill -9: down ${((upAt - downAt) / 1000).toFixed(1)} s (restart included); run ended ${((Date.now() - upAt) / 1000).toFixed(1)} s after`,
      );
      expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');
      expect(worker.alive(), 'the same worker rode out the outage').toBe(true);
      expect(existsSync(join(home, 'runs', runId, 'deliverable', 'README.md'))).toBe(true);
      const lines = readFileSync(join(home, 'runs', runId, 'artifacts', 'log.txt'), 'utf8')
        .split('\n')
        .filter(Boolean);
      expect(lines.sort()).toEqual(Object.values(SHELL_STEP_LABELS).sort());
      expect(completedTwice(model.requests, runId)).toEqual([]);
      expect(model.requests.filter((r) => r.runId === runId && r.status === 'completed')).toHaveLength(CRASH_RUN_LABELS.length);
    } finally {
      await infty.close();
    }
  }, 180_000);
});
