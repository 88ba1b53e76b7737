/**
 * Several workers, one run (docs/architecture.md decision 12), with `infty worker` processes on the
 * suite's Temporal server:
 *  - local storage: two workers with separate disks; each run's activities run on the worker that
 *    created it; that worker SIGKILLed, its runs wait visibly (phase, `infty show`) while the other
 *    worker's runs finish; restarted with the same identity and disk, its runs finish;
 *  - shared storage: the worker running a run's model step is SIGKILLed; the other worker retries
 *    the step and finishes the run.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { conversationOf } from '../src/fakeModel/conversation';
import { progressQuery } from '../src/protocol/names';
import type { Progress } from '../src/protocol/progress';
import { runCli } from './support/cli';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { outcomeWithin } from './support/outcome';
import { deliver, shell, tools, verdict } from './support/replies';
import { modelReplies } from './support/stepScript';
import { until } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, workerEnv } from './support/workerProcess';

const HOLD_FOREVER = new Promise<never>(() => undefined);

/** Stateless per request: the Solver writes its run id to out.txt, then delivers it; the Verifier passes. */
function runScript(hold: (req: RecordedRequest, solverStep: number) => Promise<void> | undefined) {
  return async (req: RecordedRequest): Promise<ScriptedReply> => {
    const turns = conversationOf(req);
    if (req.role === 'solver') {
      const step = modelReplies(turns);
      await hold(req, step);
      return step === 0 ? tools(shell(`echo ${req.runId} > out.txt`)) : deliver('out.txt');
    }
    return verdict('pass', ['out.txt names the run']);
  };
}

interface ActivityRecord {
  type: string;
  taskQueue: string;
  /** Who started the attempt that closed it (history records only that attempt) and which attempt it was. */
  identities: string[];
  attempt: number;
}

/** Each scheduled activity of the run: its type, its task queue, and who started each attempt. */
async function activitiesOf(client: Client, runId: string): Promise<ActivityRecord[]> {
  const { events } = await client.workflow.getHandle(runId).fetchHistory();
  const byId = new Map<string, ActivityRecord>();
  for (const e of events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      byId.set(String(e.eventId), { type: scheduled.activityType?.name ?? '', taskQueue: scheduled.taskQueue?.name ?? '', identities: [], attempt: 0 });
    }
    const started = e.activityTaskStartedEventAttributes;
    const record = started && byId.get(String(started.scheduledEventId));
    if (started && record) {
      record.identities.push(started.identity ?? '');
      record.attempt = started.attempt ?? 0;
    }
  }
  return [...byId.values()];
}

const progressOf = (infty: InftyClient, runId: string) => infty.handle(runId).query(progressQuery) as Promise<Progress>;

describe('several workers', () => {
  const address = inject('temporalAddress');
  const group = new WorkerGroup();
  const homes: string[] = [];
  let model: FakeModelServer;
  let infty: InftyClient;
  const gates = new Map<string, () => void>();
  const holdUntilReleased = (runId: string) => new Promise<void>((resolve) => gates.set(runId, resolve));
  let holdSolverStep1 = new Set<string>();
  let holdFirstAttemptOf = new Set<string>();
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    model = await startFakeModelServer({
      responder: runScript((req, step) => {
        const key = `${req.runId}#${step}`;
        attempts.set(key, (attempts.get(key) ?? 0) + 1);
        if (step === 1 && holdSolverStep1.has(req.runId!)) return holdUntilReleased(req.runId!);
        if (step === 0 && holdFirstAttemptOf.has(req.runId!) && attempts.get(key) === 1) return HOLD_FOREVER;
        return undefined;
      }),
    });
  });

  afterAll(async () => {
    await group.killAll();
    await killAllStartedWorkers();
    await infty?.close();
    await model?.close();
    removePinnedWorkflowBundle();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  function envFor(taskQueue: string, home: string, workerId: string, storage: 'local' | 'shared'): WorkerEnv {
    return workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_STORAGE: storage, INFTY_WORKER_ID: workerId });
  }

  function newHome(): string {
    const home = mkdtempSync(join(tmpdir(), 'infty-storage-'));
    homes.push(home);
    return home;
  }

  it('local storage: runs follow their disk, wait visibly for a dead owner, and finish when it returns', async () => {
    const taskQueue = uniqueId('tq-local');
    infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    const [homeA, homeB] = [newHome(), newHome()];
    const [idA, idB] = [uniqueId('a'), uniqueId('b')];
    const envA = envFor(taskQueue, homeA, idA, 'local');
    const envB = envFor(taskQueue, homeB, idB, 'local');

    // A alone creates R1 and R2; they stop before their second Solver step.
    let workerA = await group.start(envA);
    const onA = [uniqueId('r1'), uniqueId('r2')];
    holdSolverStep1 = new Set(onA);
    for (const runId of onA)
      await infty.startRun({ runId, objective: 'Write your run id to out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
    for (const runId of onA) {
      const p = await until(`${runId} created on A`, async () => ((await progressOf(infty, runId)).owner ? progressOf(infty, runId) : undefined));
      expect(p.owner).toEqual({ workerId: idA, taskQueue: `${taskQueue}@${idA}` });
    }
    await until('R1 and R2 at their held step', () => (onA.every((r) => gates.has(r)) ? true : undefined), 30_000);

    // B starts; A dies with R1 and R2 mid-step. New runs can only be created by B.
    await group.start(envB);
    await workerA.kill();
    const onB = [uniqueId('r3'), uniqueId('r4')];
    for (const runId of onB)
      await infty.startRun({ runId, objective: 'Write your run id to out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
    for (const runId of onB) expect((await outcomeWithin(infty, runId, 60_000)).status).toBe('delivered');

    // R1 and R2 wait for A, visibly: the phase, the worker, and `infty show`.
    for (const runId of onA) {
      const p = await until(
        `${runId} waiting for A`,
        async () => {
          const q = await progressOf(infty, runId);
          return q.phase === 'waiting_for_worker' ? q : undefined;
        },
        40_000,
      );
      expect(p.waitingForWorker).toBe(idA);
      expect(p.status).toBe('running');
    }
    const show = await runCli(['show', onA[0]!], { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`worker "${idA}" holds this run's files`);
    expect(show.stdout).toContain(`INFTY_WORKER_ID=${idA}`);

    // A returns with the same identity and disk: R1 and R2 finish there.
    for (const runId of onA) gates.get(runId)!();
    holdSolverStep1 = new Set();
    workerA = await group.start(envA);
    for (const runId of onA) expect((await outcomeWithin(infty, runId, 60_000)).status).toBe('delivered');

    for (const [runIds, id, home, other] of [
      [onA, idA, homeA, homeB],
      [onB, idB, homeB, homeA],
    ] as const) {
      for (const runId of runIds) {
        const p = await progressOf(infty, runId);
        expect(p.owner?.workerId).toBe(id);
        expect(p.waitingForWorker).toBeNull();
        expect(readFileSync(join(home, 'runs', runId, 'out.txt'), 'utf8').trim()).toBe(runId);
        expect(existsSync(join(other, 'runs', runId))).toBe(false);
        const acts = await activitiesOf(infty.client, runId);
        // The run was created in a local activity by the worker that ran its first workflow task,
        // which owns it; every activity goes to the owner's queue.
        expect(acts.map((a) => a.type)).not.toContain('createRun');
        for (const a of acts) {
          expect(a.taskQueue, a.type).toBe(`${taskQueue}@${id}`);
          for (const who of a.identities) expect(who.startsWith(`${id}:`), `${a.type} started by ${who}`).toBe(true);
        }
      }
    }
    const kinds = (await progressOf(infty, onA[0]!)).events.map((e) => e.kind);
    expect(kinds).toContain('waiting_for_worker');
    expect(kinds).toContain('worker_returned');
  }, 180_000);

  it('shared storage: the worker running a step dies and the other worker retries it', async () => {
    const taskQueue = uniqueId('tq-shared');
    const client = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    try {
      const home = newHome();
      const ids = [uniqueId('s1'), uniqueId('s2')];
      const workers = new Map<string, Awaited<ReturnType<WorkerGroup['start']>>>();
      for (const id of ids) workers.set(id, await group.start(envFor(taskQueue, home, id, 'shared')));
      const runId = uniqueId('rs');
      holdFirstAttemptOf = new Set([runId]);
      await client.startRun({ runId, objective: 'Write your run id to out.txt and deliver it.', sandbox: 'none', verifiers: ['verifier-alpha'] });
      // Kill only once the held request reached the model: killed earlier, the retry's request would
      // be the first one the model sees, and it is the first request that is held.
      await until('the Solver request at the model', () => (attempts.get(`${runId}#0`) === 1 ? true : undefined), 30_000);
      const stepWorker = await until(
        'the Solver step in flight',
        async () => {
          const d = await client.handle(runId).describe();
          const pending = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'modelStep' && a.lastWorkerIdentity);
          return pending ? pending.lastWorkerIdentity!.split(':')[0] : undefined;
        },
        30_000,
      );
      const p = await progressOf(client, runId);
      expect(p.owner).toBeNull();
      await workers.get(stepWorker)!.kill();
      const survivor = ids.find((id) => id !== stepWorker)!;
      expect((await outcomeWithin(client, runId, 90_000)).status).toBe('delivered');
      const solverSteps = (await activitiesOf(client.client, runId)).filter((a) => a.type === 'modelStep');
      const first = solverSteps[0]!;
      expect(first.taskQueue).toBe(taskQueue);
      // The attempt on the killed worker timed out (heartbeat); a retry ran on the survivor (a retry
      // the server hands to the dead worker's last poll before it notices the loss costs one more).
      expect(first.attempt).toBeGreaterThanOrEqual(2);
      expect(first.identities).toHaveLength(1);
      expect(first.identities[0]!.startsWith(`${survivor}:`)).toBe(true);
      expect(attempts.get(`${runId}#0`)).toBeGreaterThanOrEqual(2);
      expect(readFileSync(join(home, 'runs', runId, 'out.txt'), 'utf8').trim()).toBe(runId);
    } finally {
      await client.close();
    }
  }, 150_000);
});
