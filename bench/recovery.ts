/**
 * 4. Recovery time: a worker in a child process (`node bin/infty.js worker`) is SIGKILLed (by its
 * PID) while a model call is in flight (the fake server holds that reply); a new worker is started
 * at once. Measured: seconds from the kill until the run's next model request arrives (the retried
 * step), and until the request after it (which also needs a workflow task on the new worker).
 * Each new worker is another worker (its own INFTY_WORKER_ID, shared storage).
 * Baseline: the model activity's heartbeat timeout plus the first retry interval.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { HEARTBEAT_TIMEOUT_MS } from '../src/protocol/heartbeat';
import { RunInputSchema } from '../src/protocol/runInput';
import type { RecordedRequest, ScriptedReply } from './env';
import {
  benchRunInput,
  deliverReply,
  fixtureText,
  inftyBundlePath,
  median,
  newHome,
  prepareRunDir,
  ROOT,
  readFixture,
  round,
  sleep,
  startInfty,
  startModel,
  startServer,
  uniqueId,
} from './env';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface RecoverySize {
  kills: number;
  fixtureBytes: number;
}

/** The model activities' heartbeat timeout and first retry interval (src/workflows/activities.ts). */
const HEARTBEAT_TIMEOUT_S = HEARTBEAT_TIMEOUT_MS / 1000;
const FIRST_RETRY_INTERVAL_S = RunInputSchema.parse({ runId: 'x', objective: 'x' }).modelRetryInitialSecs;
/** How long the model call has been in flight when the worker is killed. */
const KILL_AFTER_MS = 1_000;

interface ChildWorker {
  pid: number;
  ready: Promise<number>;
  exited: Promise<void>;
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
});

function spawnWorker(env: Record<string, string>): ChildWorker {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'infty.js'), 'worker'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${child.pid} not ready after 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker polling task queue')) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${child.pid} exited before it was ready:\n${out}`));
    });
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
    },
  };
}

/** Solver requests of one run, handed to the driver one by one; the driver decides each reply. */
class RequestQueue {
  private readonly waiting: { at: number; req: RecordedRequest; reply: (r: ScriptedReply) => void }[] = [];
  private wake: (() => void) | undefined;

  responder = (req: RecordedRequest): Promise<ScriptedReply> =>
    new Promise((reply) => {
      this.waiting.push({ at: performance.now(), req, reply });
      this.wake?.();
    });

  async next(timeoutMs: number): Promise<{ at: number; req: RecordedRequest; reply: (r: ScriptedReply) => void }> {
    const deadline = performance.now() + timeoutMs;
    while (this.waiting.length === 0) {
      if (performance.now() > deadline) throw new Error(`no model request within ${timeoutMs / 1000} s`);
      await Promise.race([new Promise<void>((r) => (this.wake = r)), sleep(250)]);
    }
    return this.waiting.shift()!;
  }
}

export async function recoveryBench(size: RecoverySize): Promise<BenchOutput> {
  const server = await startServer();
  const model = await startModel();
  let worker: ChildWorker | undefined;
  try {
    const bundle = await inftyBundlePath();
    const home = newHome();
    const taskQueue = uniqueId('tq-recovery');
    const env = {
      TEMPORAL_ADDRESS: server.address,
      INFTY_TASK_QUEUE: taskQueue,
      INFTY_HOME: home.home,
      OPENAI_BASE_URL: model.server.baseUrl,
      OPENAI_API_KEY: 'bench',
      INFTY_WORKFLOW_BUNDLE: bundle,
      // Each new worker is another worker (its own identity) on storage all of them share.
      INFTY_STORAGE: 'shared',
    };
    const firstSpawn = performance.now();
    worker = spawnWorker({ ...env, INFTY_WORKER_ID: uniqueId('worker') });
    const firstReadyMs = (await worker.ready) - firstSpawn;

    const runId = uniqueId('recovery');
    prepareRunDir(home, runId, fixtureText(size.fixtureBytes));
    const queue = new RequestQueue();
    model.routes.set(runId, (req) => (req.role === 'solver' && req.purpose === 'turn' ? queue.responder(req) : deliverReply()));
    const handle = await startInfty(server, taskQueue, benchRunInput(runId));

    const kills: { retrySeconds: number; nextStepSeconds: number; workerReadySeconds: number }[] = [];
    let r = await queue.next(60_000);
    r.reply(readFixture());
    r = await queue.next(60_000);
    for (let k = 0; k < size.kills; k++) {
      // r: a model call in flight; hold its reply and kill the worker that made it.
      r.reply({ kind: 'hang' });
      await sleep(KILL_AFTER_MS);
      const killedAt = performance.now();
      await worker.kill();
      worker = spawnWorker({ ...env, INFTY_WORKER_ID: uniqueId('worker') });
      const readyAt = await worker.ready;
      const retry = await queue.next(120_000);
      retry.reply(readFixture());
      r = await queue.next(120_000);
      kills.push({
        retrySeconds: round((retry.at - killedAt) / 1000, 2),
        nextStepSeconds: round((r.at - killedAt) / 1000, 2),
        workerReadySeconds: round((readyAt - killedAt) / 1000, 2),
      });
      process.stderr.write(`    kill ${k + 1}/${size.kills}: retried after ${kills[k]!.retrySeconds} s, next step after ${kills[k]!.nextStepSeconds} s\n`);
    }
    r.reply(deliverReply());
    const outcome = (await handle.result()) as { status: string; reason?: string };
    if (outcome.status !== 'delivered') throw new Error(`run ${runId} ended ${outcome.status}: ${outcome.reason ?? ''}`);

    const retry = median(kills.map((k) => k.retrySeconds));
    const next = median(kills.map((k) => k.nextStepSeconds));
    const ready = median(kills.map((k) => k.workerReadySeconds));
    // The last heartbeat before the kill is the call's first one (the next is throttled to a second later).
    const expected = HEARTBEAT_TIMEOUT_S + FIRST_RETRY_INTERVAL_S;
    const data = {
      kills: kills.length,
      killAfterInFlightMs: KILL_AFTER_MS,
      heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
      firstRetryIntervalSeconds: FIRST_RETRY_INTERVAL_S,
      expectedSeconds: expected,
      medianRetrySeconds: retry,
      medianNextStepSeconds: next,
      medianNewWorkerReadySeconds: ready,
      firstWorkerReadySeconds: round(firstReadyMs / 1000, 2),
      ratioRetryOverExpected: round(retry / expected, 2),
      perKill: kills,
    };
    const rows: Row[] = [
      {
        metric: `kill → retried model request (median of ${kills.length})`,
        value: `${fmt(retry, 2)} s`,
        baseline: `${fmt(expected, 1)} s expected`,
        ratio: ratio(retry, expected),
        note: `expected = heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s (from the call's first heartbeat) + first retry interval ${FIRST_RETRY_INTERVAL_S} s; the call was ${KILL_AFTER_MS / 1000} s in flight`,
      },
      {
        metric: 'kill → next step after the retried one',
        value: `${fmt(next, 2)} s`,
        note: "also needs a workflow task on the new worker: it waits out the dead worker's sticky queue (3 s)",
      },
      { metric: 'kill → new worker polling', value: `${fmt(ready, 2)} s`, note: `cold start of \`infty worker\` (first: ${fmt(firstReadyMs / 1000, 2)} s)` },
      { metric: 'per kill (retry s)', value: kills.map((k) => fmt(k.retrySeconds, 1)).join(', ') },
    ];
    return { rows, data, required: ['medianRetrySeconds', 'medianNextStepSeconds', 'ratioRetryOverExpected'] };
  } finally {
    await worker?.kill().catch(() => undefined);
    await model.close();
    await server.stop();
  }
}
