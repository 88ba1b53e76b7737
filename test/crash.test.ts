/**
 * Crash-proof runs (SPEC §8) with real processes on a real Temporal server:
 *  - worker processes SIGKILLed at 20+ chosen points of a scripted run; fresh workers finish it
 *    with the outcome, deliverable and transcripts of an uninterrupted run of the same script;
 *  - a Temporal dev server stopped and restarted (same port, same SQLite file) mid-run;
 *  - a run through a model endpoint injecting faults, and one whose endpoint answers 401.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, inject, it, type ExpectStatic } from 'vitest';
import { INTERRUPTED_OUTPUT } from '../src/activities/tools/journal';
import { InftyClient } from '../src/client';
import { withFaults } from '../src/fakeModel/script';
import { startFakeModelServer } from '../src/fakeModel/server';
import type { FakeModelServer, RecordedRequest, Responder, ScriptedReply } from '../src/fakeModel/types';
import type { RunOutcome } from '../src/protocol/outcome';
import { freePort, startDevServer, type DevServerHandle } from '../src/server';
import { runCli } from './support/cli';
import { uniqueId } from './support/harness';
import { CRASH_OBJECTIVE, CRASH_RUN_LABELS, CRASH_VERIFIERS, crashRunStep, SHELL_STEP_LABELS } from './support/stepScript';
import { killAllStartedWorkers, pinnedWorkflowBundle, spawnWorker, type WorkerEnv, type WorkerProcess } from './support/workerProcess';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Every reply of the crash runs takes this long, so no reply can complete in the instant between a kill decision and the kill. */
const BASE_LATENCY_MS = 150;
/** A reply held back on purpose: the worker is killed long before it would be sent. */
const HOLD_MS = 120_000;

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
    env: {
      TEMPORAL_ADDRESS: address,
      INFTY_TASK_QUEUE: taskQueue,
      INFTY_HOME: home,
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: 'test',
      INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle(),
    },
  };
}

async function startedWorker(env: WorkerEnv): Promise<WorkerProcess> {
  const w = spawnWorker(env);
  await w.ready;
  return w;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// Comparing two runs of the same script

type Item = { type: string; callId?: string; output?: string; [k: string]: unknown };

function readTranscripts(home: string, runId: string): Record<string, Item[]> {
  const dir = join(home, 'transcripts', runId);
  const out: Record<string, Item[]> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    out[name] = readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Item);
  }
  return out;
}

/** Shell outputs carry their wall-clock duration; everything else must match byte for byte. */
function normalizeItem(item: Item): Item {
  if (item.type !== 'function_call_output' || typeof item.output !== 'string') return item;
  try {
    const parsed = JSON.parse(item.output);
    if (parsed && typeof parsed === 'object' && parsed.metadata && 'duration_seconds' in parsed.metadata) {
      parsed.metadata.duration_seconds = 0;
      return { ...item, output: JSON.stringify(parsed) };
    }
  } catch {
    // not JSON: compared as is
  }
  return item;
}

function filesUnder(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

function normalizeOutcome(o: RunOutcome, runsRoot: string, runId: string): unknown {
  return JSON.parse(JSON.stringify(o).split(join(runsRoot, runId)).join('<RUN_DIR>').split(runId).join('<RUN_ID>'));
}

/** callId → journal state, for every journaled tool call of the run so far. */
function journalStates(home: string, runId: string): Map<string, string> {
  const dir = join(home, 'journal', runId);
  const states = new Map<string, string>();
  if (!existsSync(dir)) return states;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const callId = name.slice(0, -'.json'.length).split('.').pop()!;
    try {
      states.set(callId, (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { state: string }).state);
    } catch {
      // being renamed into place: read it next time
    }
  }
  return states;
}

/** Model requests of a run that completed, grouped by (role, conversation, length): more than one is a step paid twice. */
function completedTwice(requests: RecordedRequest[], runId: string): string[] {
  const seen = new Map<string, number>();
  for (const r of requests) {
    if (r.runId !== runId || r.status !== 'completed') continue;
    const input = (r.body.input ?? r.body.messages ?? []) as { role?: string; content?: unknown }[];
    const firstUser = JSON.stringify(input.find((i) => i.role === 'user')?.content ?? '');
    const key = `${r.role} | ${input.length} | ${firstUser.slice(0, 80)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
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

const KILL_POINTS: { trigger: Trigger; what: string }[] = [
  { trigger: { kind: 'request', label: 'solver#0' }, what: 'first Solver model call' },
  { trigger: { kind: 'journal', callId: 's0_1', state: 'started' }, what: 'shell step-1 running' },
  { trigger: { kind: 'request', label: 'solver#1' }, what: 'Solver call after an interrupted tool' },
  { trigger: { kind: 'journal', callId: 's1_0', state: 'completed' }, what: 'apply_patch (add) just applied' },
  { trigger: { kind: 'request', label: 'solver#2' }, what: 'Solver model call' },
  { trigger: { kind: 'journal', callId: 's2_0', state: 'started' }, what: 'shell step-2 running' },
  { trigger: { kind: 'request', label: 'solver#3' }, what: 'Solver turn that asks for direction' },
  { trigger: { kind: 'request', label: 'director#0' }, what: 'Director model call' },
  { trigger: { kind: 'after', label: 'director#0' }, what: 'between turns: directive received' },
  { trigger: { kind: 'journal', callId: 's4_0', state: 'completed' }, what: 'apply_patch (update) just applied' },
  { trigger: { kind: 'journal', callId: 's4_1', state: 'started' }, what: 'shell step-3 running' },
  { trigger: { kind: 'request', label: 'solver#5' }, what: 'Solver model call' },
  { trigger: { kind: 'request', label: 'solver#6' }, what: 'Solver turn that delivers' },
  { trigger: { kind: 'requests', labels: ['verifier-alpha@1#0', 'verifier-beta@1#0'] }, what: 'both verifiers of round 1 mid-call' },
  { trigger: { kind: 'request', label: 'verifier-alpha@1#1' }, what: 'verifier call after its tool calls' },
  { trigger: { kind: 'request', label: 'solver#7' }, what: 'Solver call with the failing feedback' },
  { trigger: { kind: 'journal', callId: 's7_0', state: 'completed' }, what: 'apply_patch (README) just applied' },
  { trigger: { kind: 'journal', callId: 's7_1', state: 'started' }, what: 'shell step-5 running' },
  { trigger: { kind: 'request', label: 'solver#8' }, what: 'Solver model call' },
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
  killedAt: number;
  workerStartedAt: number;
  /** New worker start → next model request of the run. */
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

  constructor(
    readonly runId: string,
    readonly e: Env,
    private readonly infty: InftyClient,
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
      return { ...reply, latencyMs: HOLD_MS };
    }
    return { ...reply, latencyMs: BASE_LATENCY_MS };
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
    this.worker = await startedWorker(this.e.env);
  }

  async killAt(n: number, trigger: Trigger, what: string): Promise<void> {
    this.hits.clear();
    this.armed = trigger;
    const deadline = Date.now() + 150_000;
    while (!this.fired(trigger)) {
      if (this.finished) throw new Error(`kill point ${n} (${what}) never came: the run ended first`);
      if (Date.now() > deadline) {
        throw new Error(
          `kill point ${n} (${what}) did not come within 150 s; requests so far: ${this.arrivals.map((a) => `${a.label}:${a.rec.status ?? '-'}`).join(', ')}\nworker output:\n${this.worker?.output()}`,
        );
      }
      await sleep(10);
    }
    this.armed = undefined;
    if (trigger.kind === 'journal' && trigger.state === 'started') await sleep(100); // well inside `sleep 0.4`
    this.killPending = true;
    await this.quiesce();
    const killedAt = Date.now();
    await this.worker!.kill();
    const interrupted = [...journalStates(this.e.home, this.runId).entries()].filter(([, s]) => s === 'started').map(([id]) => id);
    for (const id of interrupted) this.interrupted.add(id);
    this.killPending = false;
    this.worker = spawnWorker(this.e.env);
    const record: KillRecord = { n, what, killedAt, workerStartedAt: this.worker.startedAt, interrupted };
    this.kills.push(record);
    const count = this.arrivals.length;
    void (async () => {
      while (this.arrivals.length === count && !this.finished) await sleep(10);
      const next = this.arrivals[count];
      if (next) record.recoveryMs = next.at - record.workerStartedAt;
    })();
    await this.worker.ready;
  }
}

// ---------------------------------------------------------------------------------------------

describe.concurrent('crash-proof runs (real worker processes, real Temporal server)', () => {
  it('a run whose worker is SIGKILLed at 23 points ends exactly like an uninterrupted run', async ({ expect, onTestFinished }) => {
    onTestFinished(() => killAllStartedWorkers());
    const address = inject('temporalAddress');
    const controllers = new Map<string, KillController>();
    const model = await startFakeModelServer({
      responder: (req) => {
        const { label, reply } = crashRunStep(req);
        const c = req.runId ? controllers.get(req.runId) : undefined;
        return c ? c.reply(req, label, reply) : { ...reply, latencyMs: BASE_LATENCY_MS };
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
      const worker = await startedWorker(base.env);
      const runId = uniqueId('base');
      const started = Date.now();
      await baseClient.startRun({ runId, ...input });
      const outcome = await baseClient.result(runId);
      const ms = Date.now() - started;
      await worker.kill();
      return { runId, outcome, ms };
    })();

    const runId = uniqueId('crash');
    const c = new KillController(runId, crash, crashClient);
    controllers.set(runId, c);
    await c.start();
    await crashClient.startRun({ runId, ...input });
    const result = crashClient.result(runId).finally(() => (c.finished = true));
    result.catch(() => undefined);
    for (const [i, { trigger, what }] of KILL_POINTS.slice(0, Number(process.env.CRASH_KILL_LIMIT ?? KILL_POINTS.length)).entries()) await c.killAt(i + 1, trigger, what);
    const outcome = await result;
    const crashMs = Date.now() - t0;
    await c.worker?.kill();
    const base0 = await baseline;

    // Figures.
    const recoveries = c.kills.map((k) => k.recoveryMs).filter((x): x is number => x !== undefined);
    console.log(
      [
        `crash test: uninterrupted run ${(base0.ms / 1000).toFixed(1)} s; run with ${c.kills.length} SIGKILLs ${(crashMs / 1000).toFixed(1)} s`,
        ...c.kills.map(
          (k) =>
            `  kill ${String(k.n).padStart(2)} ${k.what.padEnd(42)} recovery ${k.recoveryMs === undefined ? '   -  ' : `${(k.recoveryMs / 1000).toFixed(1).padStart(5)} s`}` +
            (k.interrupted.length ? `  interrupted ${k.interrupted.join(',')}` : ''),
        ),
        `  recovery (new worker start → next model request): median ${(median(recoveries) / 1000).toFixed(1)} s, max ${(Math.max(...recoveries) / 1000).toFixed(1)} s`,
      ].join('\n'),
    );

    // Same outcome.
    expect(base0.outcome.status).toBe('delivered');
    expect(outcome.status).toBe('delivered');
    expect(normalizeOutcome(outcome, join(crash.home, 'runs'), runId)).toEqual(normalizeOutcome(base0.outcome, join(base.home, 'runs'), base0.runId));
    expect(c.kills).toHaveLength(KILL_POINTS.length);

    // Byte-identical deliverable.
    const deliverable = filesUnder(join(crash.home, 'runs', runId, 'deliverable'));
    const baseDeliverable = filesUnder(join(base.home, 'runs', base0.runId, 'deliverable'));
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
        return normalizeItem(item);
      });
      expect(transcripts[name]!.map(normalizeItem), name).toEqual(expected);
    }
    expect([...seenInterrupted].sort()).toEqual([...c.interrupted].sort());

    // No completed model step was paid for twice; every step was paid once.
    expect(completedTwice(model.requests, runId)).toEqual([]);
    const completed = (id: string) => model.requests.filter((r) => r.runId === id && r.status === 'completed').length;
    expect(completed(base0.runId)).toBe(CRASH_RUN_LABELS.length);
    expect(completed(runId)).toBe(CRASH_RUN_LABELS.length);

    // The side-effecting append ran once per call that was not interrupted (an interrupted one at most once).
    const lines = readFileSync(join(crash.home, 'runs', runId, 'artifacts', 'log.txt'), 'utf8').split('\n').filter(Boolean);
    const baseLines = readFileSync(join(base.home, 'runs', base0.runId, 'artifacts', 'log.txt'), 'utf8').split('\n').filter(Boolean);
    expect(baseLines.sort()).toEqual(Object.values(SHELL_STEP_LABELS).sort());
    for (const [callId, label] of Object.entries(SHELL_STEP_LABELS)) {
      const n = lines.filter((l) => l === label).length;
      if (c.interrupted.has(callId)) expect(n, label).toBeLessThanOrEqual(1);
      else expect(n, label).toBe(1);
    }

    // Recovery is bounded by heartbeat timeouts, far below the activities' start-to-close timeouts.
    expect(recoveries.length).toBeGreaterThanOrEqual(KILL_POINTS.length - 1);
    expect(Math.max(...recoveries)).toBeLessThan(60_000);
  }, 900_000);
});

void checkNothing;
function checkNothing(_e: ExpectStatic, _s: DevServerHandle, _r: Responder, _f: typeof withFaults, _p: typeof freePort, _d: typeof startDevServer, _c: typeof runCli) {}
