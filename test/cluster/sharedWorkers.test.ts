/**
 * Three `infty worker` processes with shared storage (docs/architecture.md decision 12) on
 * production Temporal: the worker running a shell command is SIGKILLed mid-command, then the one
 * running the Director's model call; the last one finishes the run. No command ran twice (each
 * appends a line to artifacts/log.txt; the killed one is reported interrupted, not re-run), no
 * model step was paid twice, the deliverable is complete.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INTERRUPTED_OUTPUT } from '../../src/activities/tools/journal';
import { InftyClient } from '../../src/client';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from '../support/fakeModel';
import { fileContentsUnder } from '../support/files';
import { uniqueId } from '../support/harness';
import { outcomeWithin } from '../support/outcome';
import { completedTwice, journalStates } from '../support/runRecords';
import { CRASH_OBJECTIVE, CRASH_VERIFIERS, crashRunStep, SHELL_STEP_LABELS } from '../support/stepScript';
import { until } from '../support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, type WorkerProcess, workerEnv } from '../support/workerProcess';

const HOLD_FOREVER = new Promise<ScriptedReply>(() => undefined);

describe('three workers on shared storage', () => {
  const address = inject('temporalAddress');
  const workers = new WorkerGroup();
  let model: FakeModelServer;
  let home: string;
  let infty: InftyClient;
  let directorCalls = 0;

  beforeAll(async () => {
    model = await startFakeModelServer({
      responder: (req) => {
        const { label, reply } = crashRunStep(req);
        // The Director's first attempt never answers: its worker is killed while it waits.
        if (label === 'director#0' && ++directorCalls === 1) return HOLD_FOREVER;
        return reply;
      },
    });
    home = mkdtempSync(join(tmpdir(), 'infty-cluster-shared-'));
  });
  afterAll(async () => {
    await workers.killAll();
    await killAllStartedWorkers();
    await infty?.close();
    await model?.close();
    removePinnedWorkflowBundle();
    rmSync(home, { recursive: true, force: true });
  });

  it('survive two SIGKILLs mid-run without repeating a command', async () => {
    const taskQueue = uniqueId('tq-shared');
    const byId = new Map<string, WorkerProcess>();
    for (const id of ['w1', 'w2', 'w3'].map(uniqueId))
      byId.set(id, await workers.start(workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_STORAGE: 'shared', INFTY_WORKER_ID: id })));
    infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    const runId = uniqueId('shared');
    await infty.startRun({ runId, objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' });

    /** The worker running the run's pending activity of one of `types` (its identity starts with the worker id). */
    const runnerOf = (...types: string[]) =>
      until(`the worker running ${types.join(' or ')}`, async () => {
        const pending = (await infty.handle(runId).describe()).raw.pendingActivities ?? [];
        const a = pending.find((p) => types.includes(p.activityType?.name ?? '') && p.lastWorkerIdentity);
        return a ? a.lastWorkerIdentity!.split(':')[0] : undefined;
      });
    const killed: string[] = [];
    const kill = async (id: string) => {
      await byId.get(id)!.kill();
      killed.push(id);
    };

    // Kill 1: inside step-2's shell command (it sleeps a second before it appends).
    await until('shell step-2 running', () => (journalStates(home, runId).get('s2_0') === 'started' ? true : undefined), 60_000);
    await kill(await runnerOf('runToolCall', 'runTool'));
    // Its worker died with the command still running: the journal never saw it complete.
    expect(journalStates(home, runId).get('s2_0')).toBe('started');
    // Kill 2: while the Director's model call waits for its reply.
    await until('the Director call at the model', () => (directorCalls === 1 ? true : undefined), 60_000);
    await kill(await runnerOf('modelStep'));

    const outcome = await outcomeWithin(infty, runId, 120_000, () => [...byId.values()].map((w) => w.output()).join('\n---\n'));
    expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');
    expect(new Set(killed).size).toBe(2);
    const survivor = [...byId.keys()].find((id) => !killed.includes(id))!;
    expect(byId.get(survivor)!.alive()).toBe(true);
    expect(Object.keys(fileContentsUnder(join(home, 'runs', runId, 'deliverable')))).toEqual(['README.md', 'hello.sh', 'out.txt']);

    // No command ran twice: the interrupted one at most once (it was killed inside its `sleep 1`), every other once.
    const lines = readFileSync(join(home, 'runs', runId, 'artifacts', 'log.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    for (const [callId, label] of Object.entries(SHELL_STEP_LABELS)) {
      const n = lines.filter((l) => l === label).length;
      if (callId === 's2_0') expect(n, label).toBeLessThanOrEqual(1);
      else expect(n, label).toBe(1);
    }
    // The retry of the killed command reported it interrupted instead of running it again.
    const outputsOfKilled = readdirSync(join(home, 'transcripts', runId))
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) =>
        readFileSync(join(home, 'transcripts', runId, f), 'utf8')
          .split('\n')
          .filter(Boolean),
      )
      .map((l) => JSON.parse(l) as { type?: string; callId?: string; output?: string })
      .filter((i) => i.type === 'function_call_output' && i.callId === 's2_0');
    expect(outputsOfKilled.map((i) => i.output)).toEqual([INTERRUPTED_OUTPUT]);
    expect(directorCalls).toBe(2);
    expect(completedTwice(model.requests, runId)).toEqual([]);
  }, 180_000);
});
