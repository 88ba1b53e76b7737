/**
 * Graceful shutdown (docs/architecture.md decision 3): SIGTERM stops the worker taking new tasks
 * and lets its in-flight activities finish (within the grace time); the run goes on elsewhere
 * without repeating the step. A step longer than the grace time is cancelled and retried by
 * another worker at once, without waiting for a heartbeat timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { conversationOf } from '../src/fakeModel/conversation';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { outcomeWithin } from './support/outcome';
import { deliver, shell, tools, verdict } from './support/replies';
import { modelReplies } from './support/stepScript';
import { sleep, until } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, workerEnv } from './support/workerProcess';

describe('graceful shutdown', () => {
  const address = inject('temporalAddress');
  const group = new WorkerGroup();
  let model: FakeModelServer;
  let home: string;
  /** How long the Solver's first model reply takes, per run. */
  const firstReplyDelay = new Map<string, number>();
  const started = new Map<string, number[]>();

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'infty-shutdown-'));
    model = await startFakeModelServer({
      responder: async (req: RecordedRequest): Promise<ScriptedReply> => {
        if (req.role !== 'solver') return verdict('pass', ['fine']);
        const step = modelReplies(conversationOf(req));
        if (step === 0) {
          const list = started.get(req.runId!) ?? [];
          list.push(Date.now());
          started.set(req.runId!, list);
          // Only the first attempt is slow; a retry answers at once.
          if (list.length === 1) await sleep(firstReplyDelay.get(req.runId!) ?? 0);
          return tools(shell('echo done > out.txt'));
        }
        return deliver('out.txt');
      },
    });
  });

  afterAll(async () => {
    await group.killAll();
    await killAllStartedWorkers();
    await model?.close();
    removePinnedWorkflowBundle();
    rmSync(home, { recursive: true, force: true });
  });

  function env(taskQueue: string, workerId: string): WorkerEnv {
    return workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_STORAGE: 'shared', INFTY_WORKER_ID: workerId });
  }

  async function scenario(delayMs: number) {
    const taskQueue = uniqueId('tq-drain');
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    try {
      const first = await group.start(env(taskQueue, uniqueId('w1')));
      const runId = uniqueId('drain');
      firstReplyDelay.set(runId, delayMs);
      await infty.startRun({ runId, objective: 'Write out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
      await until('the first Solver step in flight', () => (started.get(runId)?.length ? true : undefined), 30_000);
      const second = await group.start(env(taskQueue, uniqueId('w2')));
      const termAt = Date.now();
      const stopping = first.stop(30_000);
      await stopping;
      const stoppedAfter = Date.now() - termAt;
      const outcome = await outcomeWithin(infty, runId, 60_000);
      await second.stop();
      return { outcome, stoppedAfter, attempts: started.get(runId)!, termAt, output: first.output() };
    } finally {
      await infty.close();
    }
  }

  it('SIGTERM lets an in-flight model step finish: no retry, the run goes on on the other worker', async () => {
    const stepMs = 6_000;
    const r = await scenario(stepMs);
    expect(r.outcome.status).toBe('delivered');
    expect(r.attempts).toHaveLength(1);
    // SIGTERM came while the step was in flight, and the worker stopped only once the step had ended
    // (measured from the step's start: starting the second worker first takes seconds on a loaded machine).
    const stepEnd = r.attempts[0]! + stepMs;
    expect(r.termAt).toBeLessThan(stepEnd);
    expect(r.termAt + r.stoppedAfter).toBeGreaterThanOrEqual(stepEnd - 100);
    expect(r.stoppedAfter).toBeLessThan(15_000);
    expect(r.output).toContain('worker stopped');
  }, 120_000);

  it('a step longer than the grace time is cancelled at the deadline and retried by the other worker at once', async () => {
    const r = await scenario(60_000);
    expect(r.outcome.status).toBe('delivered');
    expect(r.attempts).toHaveLength(2);
    // Grace time 10 s; the retry starts right after, not after a heartbeat timeout on top.
    const retryAfterTerm = r.attempts[1]! - r.termAt;
    expect(retryAfterTerm).toBeGreaterThan(8_000);
    expect(retryAfterTerm).toBeLessThan(14_000);
  }, 120_000);
});
