/**
 * Crash-proof runs (docs/behaviour.md §8) with real processes on a real Temporal server:
 *  - worker processes SIGKILLed at 20+ chosen points of a scripted run; fresh workers finish it
 *    with the outcome, deliverable and transcripts of an uninterrupted run of the same script;
 *  - a Temporal dev server stopped and restarted (same port, same SQLite file) mid-run;
 *  - a run through a model endpoint injecting faults, and one whose endpoint answers 401.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, inject, it } from 'vitest';
import { INTERRUPTED_OUTPUT } from '../src/activities/tools/journal';
import { InftyClient } from '../src/client';
import type { RunOutcome } from '../src/protocol/outcome';
import { type DevServerHandle, freePort, startDevServer } from '../src/server';
import { runCli } from './support/cli';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { fileContentsUnder } from './support/files';
import { uniqueId } from './support/harness';
import { withFaults } from './support/modelScript';
import { outcomeWithin } from './support/outcome';
import { completedTwice, journalStates, readTranscripts, type TranscriptLine } from './support/runRecords';
import { CRASH_OBJECTIVE, CRASH_RUN_LABELS, CRASH_VERIFIERS, crashRunStep, SHELL_STEP_LABELS } from './support/stepScript';
import { sleep } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, type WorkerProcess, workerEnv } from './support/workerProcess';

/** A reply held back on purpose: the worker is killed long before it would be sent. */
const HOLD_MS = 120_000;

/**
 * Replies that must take a while are delayed here, before the fake server answers, not with
 * `latencyMs`: with a latency the server spaces the stream's frames and records a request as
 * completed only after the last gap, so a client that hangs up once it has the final event (the
 * openai SDK does) leaves a delivered, paid reply recorded as unanswered.
 */
const delayed = (ms: number, reply: ScriptedReply): Promise<ScriptedReply> => sleep(ms).then(() => reply);

interface Env {
  home: string;
  taskQueue: string;
  env: WorkerEnv;
}

function newEnv(address: string, model: FakeModelServer, prefix: string): Env {
  const home = mkdtempSync(join(tmpdir(), `infty-${prefix}-`));
  const taskQueue = uniqueId(`tq-${prefix}`);
  return {
    home,
    taskQueue,
    env: workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }),
  };
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Comparing two runs of the same script

type Item = TranscriptLine;

/**
 * Shell outputs carry their wall-clock duration and list_dir its absolute run directory (each run
 * has its own), and a step's end record hashes and counts (the fake model's usage follows request
 * size) what holds them; everything else must match byte for byte.
 */
function normalizeItem(item: Item, runDir: string): Item {
  if (item.type === 'step_end') return { type: 'step_end', input_sha256: '<sha256>', usage: '<usage>' } as unknown as Item;
  if (item.type !== 'function_call_output' || typeof item.output !== 'string') return item;
  const output = item.output.split(runDir).join('<RUN_DIR>');
  try {
    const parsed = JSON.parse(output);
    if (parsed && typeof parsed === 'object' && parsed.metadata && 'duration_seconds' in parsed.metadata) {
      parsed.metadata.duration_seconds = 0;
      return { ...item, output: JSON.stringify(parsed) };
    }
  } catch {
    // not JSON: compared as is
  }
  return { ...item, output };
}

function normalizeOutcome(o: RunOutcome, runsRoot: string, runId: string): unknown {
  return JSON.parse(JSON.stringify(o).split(join(runsRoot, runId)).join('<RUN_DIR>').split(runId).join('<RUN_ID>'));
}

/** Activities of a run whose last attempt was not the first (from the workflow history). */
async function retriedActivities(infty: InftyClient, runId: string): Promise<{ what: string; attempt: number }[]> {
  const history = await infty.handle(runId).fetchHistory();
  const scheduled = new Map<string, string>();
  const out: { what: string; attempt: number }[] = [];
  for (const ev of history.events ?? []) {
    const sch = ev.activityTaskScheduledEventAttributes;
    if (sch) {
      let what = sch.activityType?.name ?? '?';
      try {
        const arg = JSON.parse(Buffer.from(sch.input?.payloads?.[0]?.data ?? []).toString('utf8'));
        what += arg.call ? ` ${arg.call.name} ${arg.call.callId}` : arg.role ? ` ${arg.role}` : '';
      } catch {
        // not JSON: the type alone
      }
      scheduled.set(String(ev.eventId), what);
    }
    const st = ev.activityTaskStartedEventAttributes;
    if (st && (st.attempt ?? 1) > 1) out.push({ what: scheduled.get(String(st.scheduledEventId)) ?? '?', attempt: st.attempt ?? 1 });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kill points

type Trigger =
  /** Kill as soon as this model request arrives (its reply is held, so the call never completes). */
  | { kind: 'request'; label: string }
  /** Kill once all these requests (verifiers running in parallel) have arrived. */
  | { kind: 'requests'; labels: string[] }
  /** Kill when the tool call's journal entry reaches this state (`started`: the command is running). */
  | { kind: 'journal'; callId: string; state: 'started' | 'completed' }
  /** Kill right after this model step's result reached the workflow (between turns). */
  | { kind: 'after'; label: string };

/**
 * Kill points along the run, in order. `thenIdle`: the replacement worker is killed too, while it
 * is only polling (the run waits for the dead worker's heartbeat timeout meanwhile), and another
 * replacement finishes the job: a worker dying between tasks must lose nothing either.
 */
const KILL_POINTS: { trigger: Trigger; what: string; thenIdle?: boolean }[] = [
  { trigger: { kind: 'request', label: 'solver#0' }, what: 'first Solver model call' },
  { trigger: { kind: 'journal', callId: 's0_1', state: 'started' }, what: 'shell step-1 running' },
  { trigger: { kind: 'request', label: 'solver#1' }, what: 'Solver call after an interrupted tool' },
  { trigger: { kind: 'journal', callId: 's1_0', state: 'completed' }, what: 'apply_patch (add) just applied' },
  { trigger: { kind: 'journal', callId: 's2_0', state: 'started' }, what: 'shell step-2 running' },
  { trigger: { kind: 'request', label: 'solver#3' }, what: 'Solver turn that asks for direction' },
  { trigger: { kind: 'request', label: 'director#0' }, what: 'Director model call', thenIdle: true },
  { trigger: { kind: 'after', label: 'director#0' }, what: 'between turns: directive received' },
  { trigger: { kind: 'journal', callId: 's4_0', state: 'completed' }, what: 'apply_patch (update) just applied' },
  { trigger: { kind: 'journal', callId: 's4_1', state: 'started' }, what: 'shell step-3 running' },
  { trigger: { kind: 'request', label: 'solver#6' }, what: 'Solver turn that delivers' },
  { trigger: { kind: 'requests', labels: ['verifier-alpha@1#0', 'verifier-beta@1#0'] }, what: 'both verifiers of round 1 mid-call' },
  { trigger: { kind: 'request', label: 'verifier-alpha@1#1' }, what: 'verifier call after its tool calls' },
  { trigger: { kind: 'request', label: 'solver#7' }, what: 'Solver call with the failing feedback' },
  { trigger: { kind: 'journal', callId: 's7_0', state: 'completed' }, what: 'apply_patch (README) just applied' },
  { trigger: { kind: 'journal', callId: 's7_1', state: 'started' }, what: 'shell step-5 running', thenIdle: true },
  { trigger: { kind: 'journal', callId: 's8_0', state: 'started' }, what: 'shell step-6 running' },
  { trigger: { kind: 'request', label: 'solver#9' }, what: 'Solver turn that delivers again' },
  { trigger: { kind: 'requests', labels: ['verifier-alpha@2#0', 'verifier-beta@2#0'] }, what: 'both verifiers of round 2 mid-call' },
  { trigger: { kind: 'requests', labels: ['verifier-alpha@2#1', 'verifier-beta@2#1'] }, what: 'final verdicts mid-call' },
];
/** The shell calls the kill points above interrupt (the journal must report them interrupted). */
const DESIGNED_INTERRUPTED = ['s0_1', 's2_0', 's4_1', 's7_1', 's8_0'];

interface KillRecord {
  n: number;
  what: string;
  /** When the kill point was reached (a run event: a request arrived, a journal entry changed...); unset for idle kills. */
  firedAt?: number;
  killedAt: number;
  /** When the replacement worker was spawned. */
  workerStartedAt: number;
  /** Replacement start → next model request of the run (unset when another kill came first). */
  recoveryMs?: number;
  interrupted: string[];
}

interface Arrival {
  label: string;
  at: number;
  rec: RecordedRequest;
}

/** Drives a run of the crash script through a sequence of worker kills. */
class KillController {
  arrivals: Arrival[] = [];
  private armed: Trigger | undefined;
  private hits = new Set<string>();
  private killPending = false;
  private held = new Set<RecordedRequest>();
  worker: WorkerProcess | undefined;
  kills: KillRecord[] = [];
  interrupted = new Set<string>();
  finished = false;
  /** How the run ended (its outcome, or the error its result rejected with), for a kill point that never came. */
  ending: unknown;

  constructor(
    readonly runId: string,
    readonly e: Env,
    private readonly infty: InftyClient,
    private readonly workers: WorkerGroup,
  ) {}

  /** The responder's hook for this run's requests: decides whether the reply is held back. */
  reply(req: RecordedRequest, label: string, reply: ScriptedReply): ScriptedReply {
    this.arrivals.push({ label, at: Date.now(), rec: req });
    let hold = this.killPending;
    const t = this.armed;
    if (t && (t.kind === 'request' || t.kind === 'requests')) {
      const labels = t.kind === 'request' ? [t.label] : t.labels;
      if (labels.includes(label) && !this.hits.has(label)) {
        this.hits.add(label);
        hold = true;
      }
    }
    if (hold) {
      this.held.add(req);
      return { ...reply, latencyMs: HOLD_MS }; // never completes: the worker dies first
    }
    return reply;
  }

  private fired(t: Trigger): boolean {
    switch (t.kind) {
      case 'request':
        return this.hits.has(t.label);
      case 'requests':
        return t.labels.every((l) => this.hits.has(l));
      case 'journal':
        return journalStates(this.e.home, this.runId).get(t.callId) === t.state;
      case 'after':
        return this.arrivals.some((a) => a.label === t.label && a.rec.status === 'completed');
    }
  }

  /** Waits until every model activity the server has pending is one whose reply we hold (none is about to complete). */
  private async quiesce(): Promise<void> {
    const since = this.worker!.startedAt;
    const deadline = Date.now() + 5_000;
    for (;;) {
      const d = await this.infty.handle(this.runId).describe();
      const pending = (d.raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'modelStep').length;
      const held = this.arrivals.filter((a) => a.at >= since && this.held.has(a.rec) && a.rec.status === undefined).length;
      if (pending === held) return;
      if (Date.now() > deadline) {
        console.warn(`crash test: ${pending} pending model activities vs ${held} held replies; killing anyway`);
        return;
      }
      await sleep(15);
    }
  }

  async start(): Promise<void> {
    this.worker = await this.workers.start(this.e.env);
  }

  async killAt(n: number, trigger: Trigger, what: string): Promise<void> {
    this.hits.clear();
    this.armed = trigger;
    const deadline = Date.now() + 150_000;
    while (!this.fired(trigger)) {
      if (this.finished) {
        const requests = this.arrivals.map((a) => `${a.label}:${a.rec.status ?? '-'}`).join(', ');
        throw new Error(
          `kill point ${n} (${what}) never came: the run ended first, with ${JSON.stringify(this.ending, null, 1)?.slice(0, 4000)}; requests so far: ${requests}\nworker output:\n${this.worker?.output()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `kill point ${n} (${what}) did not come within 150 s; requests so far: ${this.arrivals.map((a) => `${a.label}:${a.rec.status ?? '-'}`).join(', ')}\nworker output:\n${this.worker?.output()}`,
        );
      }
      await sleep(10);
    }
    const firedAt = trigger.kind === 'request' ? this.arrivals.find((a) => a.label === trigger.label && this.held.has(a.rec))!.at : Date.now();
    this.armed = undefined;
    const shellRunning = trigger.kind === 'journal' && trigger.state === 'started';
    if (shellRunning) await sleep(100); // well inside the command's `sleep 1`
    this.killPending = true;
    // While a Solver's shell call runs no model activity is in flight (its calls are sequential), so
    // there is nothing to quiesce; waiting on the server here let the command finish first on a loaded machine.
    if (!shellRunning) await this.quiesce();
    await this.killAndReplace(what, firedAt);
  }

  /**
   * Kills the replacement worker before it has completed anything. Replies are held from now on, so
   * the run cannot move on; whether the retried model request reached the replacement first depends
   * on the heartbeat timeout against the worker's start-up time, so the kill is named after what it
   * found rather than assumed.
   */
  async killIdle(): Promise<void> {
    this.killPending = true;
    await sleep(500);
    await this.quiesce();
    const last = this.kills[this.kills.length - 1]!;
    const since = this.arrivals.filter((a) => a.at >= last.killedAt);
    if (since.some((a) => a.rec.status === 'completed')) throw new Error('the run moved on before the replacement worker could be killed');
    await this.killAndReplace(since.length ? 'replacement worker, first request held' : 'replacement worker, idle (polling)');
  }

  private async killAndReplace(what: string, firedAt?: number): Promise<void> {
    const killedAt = Date.now();
    await this.worker!.kill();
    const interrupted = [...journalStates(this.e.home, this.runId).entries()].filter(([, s]) => s === 'started').map(([id]) => id);
    for (const id of interrupted) this.interrupted.add(id);
    this.killPending = false;
    this.worker = this.workers.spawn(this.e.env);
    this.kills.push({ n: this.kills.length + 1, what, firedAt, killedAt, workerStartedAt: this.worker.startedAt, interrupted });
    await this.worker.ready;
  }

  /**
   * Fills in recovery times: replacement start → the run's next progress (a model request, or the
   * event the next kill point waited for), unless another kill came first (an idle kill).
   */
  measureRecoveries(): number[] {
    for (const [i, k] of this.kills.entries()) {
      const nextKill = this.kills[i + 1];
      const progress = [
        ...this.arrivals.filter((a) => a.at >= k.workerStartedAt).map((a) => a.at),
        ...(nextKill?.firedAt !== undefined && nextKill.firedAt >= k.workerStartedAt ? [nextKill.firedAt] : []),
      ];
      const next = progress.length ? Math.min(...progress) : undefined;
      if (next !== undefined && (!nextKill || next <= nextKill.killedAt)) k.recoveryMs = next - k.workerStartedAt;
    }
    return this.kills.map((k) => k.recoveryMs).filter((x): x is number => x !== undefined);
  }
}

// ---------------------------------------------------------------------------------------------

describe.concurrent('crash-proof runs (real worker processes, real Temporal server)', () => {
  afterAll(async () => {
    await killAllStartedWorkers();
    removePinnedWorkflowBundle();
  });

  it('a run whose worker is SIGKILLed at 20 points (and 2 idle replacements) ends exactly like an uninterrupted run', async ({ expect, onTestFinished }) => {
    const workers = new WorkerGroup();
    onTestFinished(() => workers.killAll());
    const address = inject('temporalAddress');
    const controllers = new Map<string, KillController>();
    const model = await startFakeModelServer({
      responder: (req) => {
        const { label, reply } = crashRunStep(req);
        const c = req.runId ? controllers.get(req.runId) : undefined;
        return c ? c.reply(req, label, reply) : reply;
      },
    });
    onTestFinished(() => model.close());
    const base = newEnv(address, model, 'base');
    const crash = newEnv(address, model, 'crash');
    const baseClient = await InftyClient.connect({ address, namespace: 'default', taskQueue: base.taskQueue });
    const crashClient = await InftyClient.connect({ address, namespace: 'default', taskQueue: crash.taskQueue });
    onTestFinished(async () => {
      await baseClient.close();
      await crashClient.close();
      rmSync(base.home, { recursive: true, force: true });
      rmSync(crash.home, { recursive: true, force: true });
    });
    const input = { objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' as const };

    const t0 = Date.now();
    // The uninterrupted run, on its own task queue, home and worker, alongside the crash run.
    const baseline = (async () => {
      const worker = await workers.start(base.env);
      const runId = uniqueId('base');
      const started = Date.now();
      await baseClient.startRun({ runId, ...input });
      const outcome = await baseClient.result(runId);
      const ms = Date.now() - started;
      await worker.kill();
      return { runId, outcome, ms };
    })();

    const runId = uniqueId('crash');
    const c = new KillController(runId, crash, crashClient, workers);
    controllers.set(runId, c);
    await c.start();
    await crashClient.startRun({ runId, ...input });
    const result = crashClient.result(runId).then(
      (outcome) => {
        c.ending = outcome;
        return outcome;
      },
      (err: unknown) => {
        c.ending = err instanceof Error ? `${err.name}: ${err.message}` : err;
        throw err;
      },
    );
    void result.finally(() => (c.finished = true)).catch(() => undefined);
    result.catch(() => undefined);
    for (const [i, { trigger, what, thenIdle }] of KILL_POINTS.entries()) {
      await c.killAt(i + 1, trigger, what);
      if (thenIdle) await c.killIdle();
    }
    const outcome = await result;
    const crashMs = Date.now() - t0;
    await c.worker?.kill();
    const base0 = await baseline;

    // Figures.
    const recoveries = c.measureRecoveries();
    const retried = await retriedActivities(crashClient, runId);
    console.log(
      [
        `crash test: uninterrupted run ${(base0.ms / 1000).toFixed(1)} s; run with ${c.kills.length} SIGKILLs ${(crashMs / 1000).toFixed(1)} s`,
        ...c.kills.map(
          (k) =>
            `  kill ${String(k.n).padStart(2)} ${k.what.padEnd(42)} recovery ${k.recoveryMs === undefined ? '   -  ' : `${(k.recoveryMs / 1000).toFixed(1).padStart(5)} s`}` +
            (k.interrupted.length ? `  interrupted ${k.interrupted.join(',')}` : ''),
        ),
        `  recovery (new worker start → next progress of the run): median ${(median(recoveries) / 1000).toFixed(1)} s, max ${(Math.max(...recoveries) / 1000).toFixed(1)} s`,
        `  activities retried after a kill (from the history): ${Object.entries(countBy(retried.map((r) => r.what.split(' ').slice(0, 2).join(' '))))
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')}`,
      ].join('\n'),
    );

    // Same outcome.
    expect(base0.outcome.status).toBe('delivered');
    expect(outcome.status).toBe('delivered');
    expect(normalizeOutcome(outcome, join(crash.home, 'runs'), runId)).toEqual(normalizeOutcome(base0.outcome, join(base.home, 'runs'), base0.runId));
    expect(c.kills).toHaveLength(KILL_POINTS.length + KILL_POINTS.filter((k) => k.thenIdle).length);

    // Byte-identical deliverable.
    const deliverable = fileContentsUnder(join(crash.home, 'runs', runId, 'deliverable'));
    const baseDeliverable = fileContentsUnder(join(base.home, 'runs', base0.runId, 'deliverable'));
    expect(Object.keys(deliverable)).toEqual(['README.md', 'hello.sh', 'out.txt']);
    expect(deliverable).toEqual(baseDeliverable);

    // The kills interrupted exactly the shell calls they were aimed at.
    expect([...c.interrupted].sort()).toEqual([...DESIGNED_INTERRUPTED].sort());

    // Same transcripts, except that interrupted calls say so.
    const transcripts = readTranscripts(crash.home, runId);
    const baseTranscripts = readTranscripts(base.home, base0.runId);
    expect(Object.keys(transcripts)).toEqual(Object.keys(baseTranscripts));
    const seenInterrupted = new Set<string>();
    for (const [name, items] of Object.entries(baseTranscripts)) {
      const expected = items.map((item) => {
        if (item.type === 'function_call_output' && c.interrupted.has(item.callId!)) {
          seenInterrupted.add(item.callId!);
          return { ...item, output: INTERRUPTED_OUTPUT };
        }
        return normalizeItem(item, realpathSync(join(base.home, 'runs', base0.runId)));
      });
      const crashDir = realpathSync(join(crash.home, 'runs', runId));
      expect(
        transcripts[name]!.map((item) => normalizeItem(item, crashDir)),
        name,
      ).toEqual(expected);
    }
    expect([...seenInterrupted].sort()).toEqual([...c.interrupted].sort());

    // No completed model step was paid for twice; every step was paid once.
    expect(completedTwice(model.requests, runId)).toEqual([]);
    const completed = (id: string) => model.requests.filter((r) => r.runId === id && r.status === 'completed').length;
    expect(completed(base0.runId)).toBe(CRASH_RUN_LABELS.length);
    expect(completed(runId)).toBe(CRASH_RUN_LABELS.length);

    // The side-effecting append ran once per call that was not interrupted (an interrupted one at most once).
    const lines = readFileSync(join(crash.home, 'runs', runId, 'artifacts', 'log.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const baseLines = readFileSync(join(base.home, 'runs', base0.runId, 'artifacts', 'log.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(baseLines.sort()).toEqual(Object.values(SHELL_STEP_LABELS).sort());
    for (const [callId, label] of Object.entries(SHELL_STEP_LABELS)) {
      const n = lines.filter((l) => l === label).length;
      if (c.interrupted.has(callId)) expect(n, label).toBeLessThanOrEqual(1);
      else expect(n, label).toBe(1);
    }

    // Recovery is bounded by heartbeat timeouts, far below the activities' start-to-close timeouts.
    const killedBeforeAnyProgress = c.kills.filter((_k, i) => c.kills[i + 1]?.what === 'replacement worker, idle (polling)').length;
    expect(recoveries.length).toBe(c.kills.length - killedBeforeAnyProgress);
    expect(Math.max(...recoveries)).toBeLessThan(60_000);
  }, 480_000);

  it('a run survives a restart of the Temporal server (same port, same SQLite file)', async ({ expect, onTestFinished }) => {
    const workers = new WorkerGroup();
    onTestFinished(() => workers.killAll());
    const dir = mkdtempSync(join(tmpdir(), 'infty-restart-'));
    const port = await freePort();
    const dbFile = join(dir, 'temporal.db');
    let server: DevServerHandle = await startDevServer({ port, dbFile, headless: true });
    onTestFinished(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    let reachedStop: () => void = () => undefined;
    const stopPoint = new Promise<void>((r) => (reachedStop = r));
    let stopped = false;
    const arrivedAt = new Map<RecordedRequest, number>();
    const model = await startFakeModelServer({
      responder: (req) => {
        arrivedAt.set(req, Date.now());
        const { label, reply } = crashRunStep(req);
        if (label === 'director#0' && !stopped) {
          // The server goes down while this call is in flight; the reply arrives while it is down.
          stopped = true;
          reachedStop();
          return delayed(3_000, reply);
        }
        return delayed(300, reply);
      },
    });
    onTestFinished(() => model.close());
    const e = newEnv(server.address, model, 'restart');
    onTestFinished(() => rmSync(e.home, { recursive: true, force: true }));
    const worker = await workers.start(e.env);
    let infty = await InftyClient.connect({ address: server.address, namespace: 'default', taskQueue: e.taskQueue });
    const runId = uniqueId('restart');
    const t0 = Date.now();
    await infty.startRun({ runId, objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' });
    await stopPoint;
    await infty.close();
    const downAt = Date.now();
    await server.stop();
    const stopMs = Date.now() - downAt;
    await sleep(2_000); // stays down past the model reply
    server = await startDevServer({ port, dbFile, headless: true });
    const upAt = Date.now();
    infty = await InftyClient.connect({ address: server.address, namespace: 'default', taskQueue: e.taskQueue });
    onTestFinished(() => infty.close());
    const outcome = await outcomeWithin(
      infty,
      runId,
      120_000,
      () => `requests: ${model.requests.map((r) => `${crashRunStep(r).label}:${r.status ?? '-'}`).join(', ')}\nworker:\n${worker.output()}`,
    );
    const total = Date.now() - t0;
    const firstAfter = model.requests.find((r) => arrivedAt.get(r)! >= upAt);
    const twice = completedTwice(model.requests, runId);
    console.log(
      `server restart: stop took ${(stopMs / 1000).toFixed(1)} s, down ${((upAt - downAt) / 1000).toFixed(1)} s; ` +
        `first model request ${firstAfter ? `${((arrivedAt.get(firstAfter)! - upAt) / 1000).toFixed(1)} s` : '-'} after the restart; ` +
        `run ${(total / 1000).toFixed(1)} s; steps paid twice: ${twice.length ? twice.join('; ') : 'none'}`,
    );
    expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');
    expect(worker.alive(), 'the same worker rode out the outage').toBe(true);
    expect(existsSync(join(e.home, 'runs', runId, 'deliverable', 'README.md'))).toBe(true);
    expect(twice).toEqual([]);
  }, 180_000);

  it('a run through an endpoint injecting 500s, 429s, drops, truncated streams and invalid JSON completes delivered', async ({ expect, onTestFinished }) => {
    const workers = new WorkerGroup();
    onTestFinished(() => workers.killAll());
    const address = inject('temporalAddress');
    const model = await startFakeModelServer({ responder: withFaults((req) => crashRunStep(req).reply, { rate: 0.3, seed: 42 }) });
    onTestFinished(() => model.close());
    const e = newEnv(address, model, 'faults');
    onTestFinished(() => rmSync(e.home, { recursive: true, force: true }));
    const worker = await workers.start(e.env);
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue: e.taskQueue });
    onTestFinished(() => infty.close());
    const runId = uniqueId('faults');
    const t0 = Date.now();
    await infty.startRun({ runId, objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' });
    const outcome = await outcomeWithin(
      infty,
      runId,
      120_000,
      () =>
        `requests: ${model.requests.map((r) => `${crashRunStep(r).label}:${r.status === 'fault' ? r.fault : (r.status ?? '-')}`).join(', ')}\nworker:\n${worker.output()}`,
    );
    const faults = model.requests.filter((r) => r.status === 'fault').map((r) => r.fault!);
    const byKind = Object.entries(countBy(faults));
    console.log(
      `fault injection: ${faults.length} faults of ${model.requests.length} requests (${byKind.map(([k, n]) => `${k} ${n}`).join(', ')}); run ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');
    expect(faults.length).toBeGreaterThanOrEqual(5);
    expect(new Set(model.requests.filter((r) => r.status === 'fault').map((r) => r.fault)).size).toBeGreaterThanOrEqual(3);
    expect(completedTwice(model.requests, runId)).toEqual([]);
    expect(model.requests.filter((r) => r.status === 'completed')).toHaveLength(CRASH_RUN_LABELS.length);
  }, 180_000);

  it('a run whose endpoint refuses the credentials (401) fails fast, and `infty show --json` says why', async ({ expect, onTestFinished }) => {
    const workers = new WorkerGroup();
    onTestFinished(() => workers.killAll());
    const address = inject('temporalAddress');
    const model = await startFakeModelServer({ responder: () => ({ kind: 'fault', fault: { kind: 'http', status: 401 } }) });
    onTestFinished(() => model.close());
    const e = newEnv(address, model, 'auth');
    onTestFinished(() => rmSync(e.home, { recursive: true, force: true }));
    await workers.start(e.env);
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue: e.taskQueue });
    onTestFinished(() => infty.close());
    const runId = uniqueId('auth');
    const t0 = Date.now();
    await infty.startRun({ runId, objective: CRASH_OBJECTIVE, verifiers: CRASH_VERIFIERS, sandbox: 'none' });
    const outcome = await infty.result(runId);
    const ms = Date.now() - t0;
    console.log(`401: run failed after ${(ms / 1000).toFixed(1)} s with ${model.requests.length} model request(s)`);
    expect(outcome.status).toBe('failed');
    const reason = outcome.status === 'failed' ? outcome.reason : '';
    expect(reason).toMatch(/HTTP 401/);
    expect(reason).toMatch(/credentials/);
    expect(reason).toMatch(/OPENAI_API_KEY/);
    expect(ms).toBeLessThan(10_000);
    expect(model.requests).toHaveLength(1); // not retried

    const shown = await runCli(['show', runId, '--json'], e.env);
    expect(shown.code, shown.stderr).toBe(0);
    const doc = JSON.parse(shown.stdout);
    expect(doc.status).toBe('failed');
    expect(doc.outcome).toMatchObject({ runId, status: 'failed', reason });
  }, 60_000);
});
