/**
 * Every crash window of docs/behaviour.md §8, hit deterministically (docs/architecture.md "Testing strategy"): for each
 * named failpoint, a scripted run starts on a worker process with INFTY_FAILPOINTS=<name>; the
 * worker SIGKILLs itself when execution first reaches that point; a fresh worker without the
 * variable finishes the run. The run must end exactly like an uninterrupted run of the same script:
 * same outcome, same deliverable bytes, same transcripts and tool journal, the same model requests
 * in the same order — one extra (a duplicate) only after `model.afterResponse`, the one window that
 * cannot be closed — and the shell call's side effect exactly once. A failpoint that is never
 * reached fails its test.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, type ExpectStatic, inject, it, type TestContext } from 'vitest';
import { FAILPOINTS, type FailpointName } from '../src/activities/durable/failpoints';
import { INTERRUPTED_OUTPUT } from '../src/activities/tools/journal';
import { InftyClient } from '../src/client';
import type { RunOutcome } from '../src/protocol/outcome';
import { FP_AUTO_COMPACT_LIMIT, FP_OBJECTIVE, FP_RUN_LABELS, FP_SHELL, FP_SIDE_EFFECT, FP_VERIFIERS, failpointRunStep } from './support/failpointScript';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { fileContentsUnder } from './support/files';
import { uniqueId } from './support/harness';
import { outcomeWithin as waitOutcome } from './support/outcome';
import { readTranscripts, type TranscriptLine } from './support/runRecords';
import { sleep } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, type WorkerProcess, workerEnv } from './support/workerProcess';

const RUN_INPUT = { objective: FP_OBJECTIVE, verifiers: FP_VERIFIERS, sandbox: 'none' as const, autoCompactLimit: FP_AUTO_COMPACT_LIMIT };
/** How long a run may take to reach its failpoint, and to finish after the fresh worker started. */
const TO_FAILPOINT_MS = 90_000;
const TO_OUTCOME_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Shared: one fake model server (requests told apart by run id), one uninterrupted baseline run

let address = '';
let model: FakeModelServer;
/** Per-run hooks on the scripted replies (the takeover test holds one reply back). */
const hooks = new Map<string, (req: RecordedRequest, label: string, reply: ScriptedReply) => ScriptedReply | Promise<ScriptedReply>>();
const cleanups: (() => unknown)[] = [];

interface Env {
  home: string;
  taskQueue: string;
  env: WorkerEnv;
}

function newEnv(prefix: string): Env {
  const home = mkdtempSync(join(tmpdir(), `infty-fp-${prefix}-`));
  const taskQueue = uniqueId(`tq-fp-${prefix}`);
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  return {
    home,
    taskQueue,
    env: workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }),
  };
}

async function clientFor(e: Env): Promise<InftyClient> {
  const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue: e.taskQueue });
  cleanups.push(() => infty.close());
  return infty;
}

interface FinishedRun {
  runId: string;
  home: string;
  runDir: string;
  outcome: RunOutcome;
}

const requestsOf = (runId: string) => model.requests.filter((r) => r.runId === runId);
const labelsOf = (runId: string) => requestsOf(runId).map((r) => `${failpointRunStep(r).label}:${r.status ?? '-'}`);

const outcomeWithin = (infty: InftyClient, runId: string, ms: number, extra: () => string = () => ''): Promise<RunOutcome> =>
  waitOutcome(infty, runId, ms, () => `requests: ${labelsOf(runId).join(', ')}\n${extra()}`);

let baselinePromise: Promise<FinishedRun> | undefined;
/** The uninterrupted run of the script (started by the first test that needs it, shared by all). */
function baseline(): Promise<FinishedRun> {
  baselinePromise ??= (async () => {
    const workers = new WorkerGroup();
    cleanups.push(() => workers.killAll());
    const e = newEnv('base');
    const infty = await clientFor(e);
    const worker = await workers.start(e.env);
    const runId = uniqueId('fp-base');
    await infty.startRun({ runId, ...RUN_INPUT });
    const outcome = await outcomeWithin(infty, runId, TO_OUTCOME_MS, () => worker.output());
    await worker.kill();
    return { runId, home: e.home, runDir: join(e.home, 'runs', runId), outcome };
  })();
  return baselinePromise;
}

// ---------------------------------------------------------------------------------------------
// Reading and normalizing what a run left behind

type Item = TranscriptLine;

interface JournalEntry {
  state: string;
  name: string;
  arguments: string;
  output?: string;
}

/** journal file name → entry, for every journaled tool call of the run. */
function readJournal(home: string, runId: string): Record<string, JournalEntry> {
  const dir = join(home, 'journal', runId);
  const out: Record<string, JournalEntry> = {};
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
    .sort()) {
    out[name] = JSON.parse(readFileSync(join(dir, name), 'utf8')) as JournalEntry;
  }
  return out;
}

function journalEntryOf(home: string, runId: string, callId: string): JournalEntry | undefined {
  return Object.entries(readJournal(home, runId)).find(([name]) => name.endsWith(`.${callId}.json`))?.[1];
}

/** Replaces a run's own paths and id, and shell durations (wall clock), in every string of `value`. */
function normalizeStrings(value: unknown, run: { runId: string; home: string; runDir: string }): unknown {
  const real = realpathSync(run.runDir);
  const realHome = realpathSync(run.home);
  const fix = (s: string) =>
    s
      .split(real)
      .join('<RUN_DIR>')
      .split(run.runDir)
      .join('<RUN_DIR>')
      .split(realHome)
      .join('<HOME>')
      .split(run.home)
      .join('<HOME>')
      .split(run.runId)
      .join('<RUN_ID>')
      .replace(/("duration_seconds":)-?[0-9.eE+-]+/g, '$10');
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

/**
 * A transcript line comparable across runs: paths and durations normalized; a step_end's input
 * hash covers its new items (tool outputs with their durations), so only its shape is kept.
 */
function normalizeItem(item: Item, run: FinishedRun, interrupted: Set<string>): Item {
  if (item.type === 'function_call_output' && interrupted.has(item.callId!)) return { ...item, output: INTERRUPTED_OUTPUT };
  const out = normalizeStrings(item, run) as Item;
  if (out.type === 'step_end') return { ...out, input_sha256: /^[0-9a-f]{64}$/.test(String(out.input_sha256)) ? '<sha256>' : `bad: ${out.input_sha256}` };
  return out;
}

/** A model request comparable across runs (the body's conversation, tools, schema, cache key). */
function normalizeRequest(
  req: RecordedRequest,
  run: FinishedRun,
  interrupted: Set<string>,
): { label: string; role?: string; purpose?: string; path: string; body: unknown } {
  const markInterrupted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(markInterrupted);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'function_call_output' && interrupted.has(String(o.call_id))) return { ...o, output: INTERRUPTED_OUTPUT };
      if (o.role === 'tool' && interrupted.has(String(o.tool_call_id))) return { ...o, content: INTERRUPTED_OUTPUT };
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, markInterrupted(x)]));
    }
    return v;
  };
  return { label: failpointRunStep(req).label, role: req.role, purpose: req.purpose, path: req.path, body: normalizeStrings(markInterrupted(req.body), run) };
}

function normalizeOutcome(o: RunOutcome, run: FinishedRun): unknown {
  return normalizeStrings(o, run);
}

/** run.json without what differs between any two runs (timestamps, the workflow execution id). */
function normalizeRunJson(run: FinishedRun): unknown {
  const doc = JSON.parse(readFileSync(join(run.runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  const { created_at: _c, updated_at: _u, workflow_run_id: _w, ...rest } = doc;
  return normalizeStrings(rest, run);
}

const countBy = (xs: string[]) =>
  xs.reduce<Record<string, number>>((acc, x) => {
    acc[x] = (acc[x] ?? 0) + 1;
    return acc;
  }, {});
const logLines = (runDir: string) =>
  existsSync(join(runDir, 'artifacts', 'log.txt'))
    ? readFileSync(join(runDir, 'artifacts', 'log.txt'), 'utf8')
        .split('\n')
        .filter(Boolean)
    : [];
const tempFilesOf = (runDir: string) => (existsSync(runDir) ? readdirSync(runDir).filter((n) => n.startsWith('.run.json.tmp')) : []);

// ---------------------------------------------------------------------------------------------
// The failpoints, and what must hold at the moment each one killed its worker

interface KillState {
  expect: ExpectStatic;
  runId: string;
  home: string;
  runDir: string;
  requests: RecordedRequest[];
}

interface Case {
  name: FailpointName;
  /** Checks the durable state the worker left when it died there. */
  atKill: (s: KillState) => void;
  /** The window that cannot be closed: the request being answered is sent again. */
  duplicateRequest?: boolean;
  /** Calls reported to the model as interrupted (their output is INTERRUPTED_OUTPUT). */
  interrupted?: string[];
  /** Checks what the finished run left, beyond the comparison with the uninterrupted run. */
  afterRun?: (s: { expect: ExpectStatic; runDir: string }) => void;
}

/** run.json's created_at when a worker died at createRun.afterCreate, by run directory. */
const createdAtKill = new Map<string, string>();

const solverLines = (s: KillState, generation = 0) => readTranscripts(s.home, s.runId)[generation === 0 ? 'solver.jsonl' : `solver.${generation}.jsonl`] ?? [];

const CASES: Case[] = [
  {
    name: 'model.afterResponse',
    duplicateRequest: true,
    atKill: ({ expect, requests, ...s }) => {
      // The first Solver step was answered (paid) but its reply is not in the transcript.
      expect(requests.map((r) => `${failpointRunStep(r).label}:${r.status}`)).toEqual(['solver#shell:completed']);
      const lines = solverLines({ expect, requests, ...s });
      expect(lines.map((i) => i.type)).toEqual(['instructions', 'message']);
    },
  },
  {
    name: 'model.afterAppend',
    atKill: ({ expect, requests, ...s }) => {
      expect(requests.map((r) => `${failpointRunStep(r).label}:${r.status}`)).toEqual(['solver#shell:completed']);
      const lines = solverLines({ expect, requests, ...s });
      expect(lines.map((i) => i.type)).toEqual(['instructions', 'message', 'function_call', 'step_end']);
      expect(lines[2]).toMatchObject({ callId: FP_SHELL, name: 'shell' });
    },
  },
  {
    name: 'tool.afterSideEffect',
    interrupted: [FP_SHELL],
    atKill: ({ expect, home, runId, runDir }) => {
      expect(logLines(runDir)).toEqual([FP_SIDE_EFFECT]);
      expect(journalEntryOf(home, runId, FP_SHELL)?.state).toBe('started');
    },
  },
  {
    name: 'tool.afterJournal',
    atKill: ({ expect, home, runId, runDir }) => {
      expect(logLines(runDir)).toEqual([FP_SIDE_EFFECT]);
      const entry = journalEntryOf(home, runId, FP_SHELL);
      expect(entry?.state).toBe('completed');
      expect(JSON.parse(entry!.output!)).toMatchObject({ output: 'logged\n', metadata: { exit_code: 0 } });
    },
  },
  {
    name: 'runStore.beforeRename',
    atKill: ({ expect, runDir, requests }) => {
      // The first run.json write (createRun): there is no old content, and the new one is complete
      // in its temp file, not yet renamed.
      expect(requests).toEqual([]);
      expect(existsSync(join(runDir, 'run.json'))).toBe(false);
      const temps = tempFilesOf(runDir);
      expect(temps).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(runDir, temps[0]!), 'utf8'))).toMatchObject({ status: 'running', objective: FP_OBJECTIVE });
    },
  },
  {
    name: 'createRun.afterCreate',
    atKill: ({ expect, runDir, requests }) => {
      // The run exists on disk, complete; no model step has started. Its creation is not in history.
      expect(requests).toEqual([]);
      const doc = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string; objective: string; created_at: string };
      expect(doc).toMatchObject({ status: 'running', objective: FP_OBJECTIVE });
      expect(tempFilesOf(runDir)).toEqual([]);
      createdAtKill.set(runDir, doc.created_at);
    },
    afterRun: ({ expect, runDir }) => {
      // The fresh worker ran the creation again and found the run it had made: not made twice.
      const doc = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { created_at: string };
      expect(doc.created_at).toBe(createdAtKill.get(runDir));
    },
  },
  {
    name: 'compaction.afterWrite',
    atKill: ({ expect, requests, ...s }) => {
      expect(requests.map((r) => failpointRunStep(r).label)).toEqual(['solver#shell', 'solver#patch', 'solver#read', 'solver:compaction']);
      const lines = solverLines({ expect, requests, ...s }, 1);
      expect(lines[lines.length - 1]?.type).toBe('step_end');
      // The scripted endpoint offers remote compaction: the new generation holds its opaque item.
      expect(lines.some((i) => i.type === 'compaction')).toBe(true);
    },
  },
  {
    name: 'recordItems.afterAppend',
    atKill: ({ expect, requests, ...s }) => {
      expect(requests.map((r) => failpointRunStep(r).label)).toEqual(FP_RUN_LABELS);
      const last = solverLines({ expect, requests, ...s }, 1).pop();
      expect(last).toMatchObject({ type: 'message', role: 'user' });
      expect(JSON.parse(String(last!.text))).toMatchObject({ type: 'verification_feedback', overall: 'pass' });
    },
  },
];

/**
 * Failpoints outside this file's script (its run has no project), with the test file that crashes a
 * worker at each: together with CASES, every failpoint in FAILPOINTS exactly once.
 */
const COVERED_ELSEWHERE: Partial<Record<FailpointName, string>> = {
  'project.midCopy': 'test/project/projectCrash.test.ts',
};

// ---------------------------------------------------------------------------------------------

interface CrashResult extends FinishedRun {
  killedAt: number;
  /** Requests of the run recorded when the worker died. */
  requestsAtKill: number;
  timings: string;
}

/**
 * Runs the script on a worker with INFTY_FAILPOINTS=<name> (from the start, or taking over from a
 * plain worker via `takeover`), asserts it died by SIGKILL at that failpoint, checks the state it
 * left, then lets a fresh worker finish the run.
 */
async function crashAt(
  c: Case,
  expect: ExpectStatic,
  onTestFinished: TestContext['onTestFinished'],
  takeover?: (workers: WorkerGroup, e: Env, runId: string) => Promise<void>,
): Promise<CrashResult> {
  const workers = new WorkerGroup();
  onTestFinished(() => workers.killAll());
  const slug = c.name.replace(/\W/g, '-');
  const e = newEnv(slug);
  const infty = await clientFor(e);
  const runId = uniqueId(`fp-${slug}`);
  const runDir = join(e.home, 'runs', runId);
  const t0 = Date.now();

  let doomed: WorkerProcess;
  if (takeover) {
    await takeover(workers, e, runId);
    doomed = await workers.start({ ...e.env, INFTY_FAILPOINTS: c.name });
  } else {
    doomed = await workers.start({ ...e.env, INFTY_FAILPOINTS: c.name });
    await infty.startRun({ runId, ...RUN_INPUT });
  }
  const result = infty.result(runId);
  result.catch(() => undefined);
  const first = await Promise.race([
    doomed.exited.then((x) => ({ kind: 'exited' as const, ...x })),
    result.then(
      (o) => ({ kind: 'finished' as const, o }),
      (err: Error) => ({ kind: 'failed' as const, err }),
    ),
    sleep(TO_FAILPOINT_MS).then(() => ({ kind: 'timeout' as const })),
  ]);
  const killedAt = Date.now();
  const requestsAtKill = requestsOf(runId);
  if (first.kind !== 'exited') {
    throw new Error(
      `failpoint ${c.name} was never reached: the run ${first.kind === 'finished' ? `ended (${first.o.status})` : first.kind === 'failed' ? `failed (${first.err.message})` : `was still going after ${TO_FAILPOINT_MS / 1000} s`} ` +
        `while the worker with INFTY_FAILPOINTS=${c.name} was alive\nrequests: ${labelsOf(runId).join(', ')}\nworker:\n${doomed.output()}`,
    );
  }
  expect(first.signal, `worker exit (code ${first.code}):\n${doomed.output()}`).toBe('SIGKILL');
  expect(doomed.output()).toContain(`failpoint ${c.name}: killing worker process ${doomed.pid}\n`);
  c.atKill({ expect, runId, home: e.home, runDir, requests: requestsAtKill });

  const fresh = await workers.start(e.env);
  const freshAt = Date.now();
  const outcome = await outcomeWithin(infty, runId, TO_OUTCOME_MS, () => `failpoint worker:\n${doomed.output()}\nfresh worker:\n${fresh.output()}`);
  const doneAt = Date.now();
  await fresh.kill();
  return {
    runId,
    home: e.home,
    runDir,
    outcome,
    killedAt,
    requestsAtKill: requestsAtKill.length,
    timings: `killed after ${((killedAt - t0) / 1000).toFixed(1)} s; finished ${((doneAt - freshAt) / 1000).toFixed(1)} s after the fresh worker started; ${((doneAt - t0) / 1000).toFixed(1)} s in all`,
  };
}

/** The finished crash run against the uninterrupted one: outcome, files, transcripts, journal, requests. */
function compareWithBaseline(expect: ExpectStatic, c: Case, crash: CrashResult, base: FinishedRun): void {
  const interrupted = new Set(c.interrupted ?? []);
  const none = new Set<string>();

  // Same outcome (status, deliverable path, summary, verification, deliverable report).
  expect(base.outcome.status).toBe('delivered');
  expect(crash.outcome.status, JSON.stringify(crash.outcome)).toBe('delivered');
  expect(normalizeOutcome(crash.outcome, crash)).toEqual(normalizeOutcome(base.outcome, base));

  // Byte-identical deliverable; the side effect happened exactly once.
  const deliverable = fileContentsUnder(join(crash.runDir, 'deliverable'));
  expect(Object.keys(deliverable)).toEqual(['hello.txt']);
  expect(deliverable).toEqual(fileContentsUnder(join(base.runDir, 'deliverable')));
  expect(logLines(base.runDir)).toEqual([FP_SIDE_EFFECT]);
  expect(logLines(crash.runDir), 'the shell call ran exactly once').toEqual([FP_SIDE_EFFECT]);

  // run.json is valid and ends as the uninterrupted run's.
  expect(normalizeRunJson(crash)).toEqual(normalizeRunJson(base));

  // The run directory (the Solver's workspace) holds the same files as the uninterrupted run's: no
  // debris of a crashed write (the models see the workspace, e.g. through list_dir).
  // (Soft: a difference here is reported along with the rest of the comparison.)
  expect.soft(tempFilesOf(crash.runDir), "run.json temp files left in the Solver's workspace").toEqual([]);
  expect.soft(Object.keys(fileContentsUnder(crash.runDir)), 'files in the run directory').toEqual(Object.keys(fileContentsUnder(base.runDir)));

  // Same transcripts, line by line (an interrupted call's output says so).
  const transcripts = readTranscripts(crash.home, crash.runId);
  const baseTranscripts = readTranscripts(base.home, base.runId);
  expect(Object.keys(transcripts)).toEqual(Object.keys(baseTranscripts));
  expect(Object.keys(transcripts)).toEqual(['director.jsonl', 'solver.1.jsonl', 'solver.jsonl', 'verifier-alpha.jsonl']);
  for (const [name, items] of Object.entries(baseTranscripts)) {
    expect
      .soft(
        transcripts[name]!.map((i) => normalizeItem(i, crash, none)),
        name,
      )
      .toEqual(items.map((i) => normalizeItem(i, base, interrupted)));
  }
  for (const callId of interrupted) {
    const outputs = Object.values(transcripts)
      .flat()
      .filter((i) => i.type === 'function_call_output' && i.callId === callId);
    expect(outputs.length, `outputs of ${callId}`).toBeGreaterThan(0);
    for (const o of outputs) expect(o.output).toBe(INTERRUPTED_OUTPUT);
  }

  // Same tool journal: every call completed, with the uninterrupted run's output.
  const journal = readJournal(crash.home, crash.runId);
  const baseJournal = readJournal(base.home, base.runId);
  expect(Object.keys(journal)).toEqual(Object.keys(baseJournal));
  const comparable = (j: Record<string, JournalEntry>, run: FinishedRun, marks: Set<string>) =>
    Object.fromEntries(
      Object.entries(j).map(([name, { state, name: tool, arguments: args, output }]) => {
        const callId = name.slice(0, -'.json'.length).split('.').pop()!;
        return [name, normalizeStrings({ state, tool, args, output: marks.has(callId) ? INTERRUPTED_OUTPUT : output }, run)];
      }),
    );
  expect(comparable(journal, crash, none)).toEqual(comparable(baseJournal, base, interrupted));

  // The model requests: the same ones, in the same order, with the same bodies; a duplicate only
  // where the response had been received but not yet written (model.afterResponse).
  const reqs = requestsOf(crash.runId).map((r) => normalizeRequest(r, crash, none));
  const baseReqs = requestsOf(base.runId).map((r) => normalizeRequest(r, base, interrupted));
  expect(baseReqs.map((r) => r.label)).toEqual(FP_RUN_LABELS);
  expect(
    requestsOf(crash.runId).every((r) => r.status === 'completed'),
    labelsOf(crash.runId).join(', '),
  ).toBe(true);
  const key = (r: { role?: string; purpose?: string }) => `${r.role}/${r.purpose}`;
  const expectedReqs = [...baseReqs];
  if (c.duplicateRequest) {
    // The killed attempt's request was the last one recorded at the kill; its retry sends it again.
    const k = crash.requestsAtKill - 1;
    expect(k).toBeGreaterThanOrEqual(0);
    expectedReqs.splice(k, 0, baseReqs[k]!);
    expect(reqs[k + 1], 'the retry sent the same request again').toEqual(reqs[k]);
  }
  expect(countBy(reqs.map(key))).toEqual(countBy(expectedReqs.map(key)));
  expect(reqs.map((r) => r.label)).toEqual(expectedReqs.map((r) => r.label));
  for (const [i, r] of reqs.entries()) expect(r, `request ${i + 1} (${r.label})`).toEqual(expectedReqs[i]);
}

// ---------------------------------------------------------------------------------------------

describe.concurrent('failpoints: a worker SIGKILLed at each named crash point; a fresh worker finishes the run as if uninterrupted', () => {
  beforeAll(async () => {
    address = inject('temporalAddress');
    model = await startFakeModelServer({
      responder: (req) => {
        const { label, reply } = failpointRunStep(req);
        const hook = req.runId ? hooks.get(req.runId) : undefined;
        return hook ? hook(req, label, reply) : reply;
      },
    });
  });

  afterAll(async () => {
    await killAllStartedWorkers();
    for (const fn of cleanups.reverse()) await fn();
    await model?.close();
    removePinnedWorkflowBundle();
  });

  it('every failpoint in FAILPOINTS has a case here, or in the test file COVERED_ELSEWHERE names', ({ expect }) => {
    expect([...CASES.map((c) => c.name), ...Object.keys(COVERED_ELSEWHERE)].sort()).toEqual([...FAILPOINTS].sort());
    for (const [name, file] of Object.entries(COVERED_ELSEWHERE)) {
      const path = join(__dirname, '..', file);
      expect(existsSync(path), `${name}: ${file} is missing`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${file} does not name ${name}`).toContain(`'${name}'`);
    }
  });

  it.for(CASES)('$name: the worker dies there, and the run ends like an uninterrupted one', { timeout: 300_000 }, async (c, { expect, onTestFinished }) => {
    const basePromise = baseline();
    basePromise.catch(() => undefined);
    const crash = await crashAt(c, expect, onTestFinished);
    const base = await basePromise;
    console.log(`failpoint ${c.name}: ${crash.timings}`);
    compareWithBaseline(expect, c, crash, base);
    c.afterRun?.({ expect, runDir: crash.runDir });
  });

  it('runStore.beforeRename over an existing run.json (the failpoint worker takes over mid-run): run.json stays the old content, then the new', async ({
    expect,
    onTestFinished,
  }) => {
    const basePromise = baseline();
    basePromise.catch(() => undefined);
    const c: Case = {
      name: 'runStore.beforeRename',
      atKill: ({ expect, runDir, requests }) => {
        // The first run.json write on the failpoint worker: the roles after the Solver's compaction.
        expect(requests.map((r) => failpointRunStep(r).label)).toEqual(['solver#shell', 'solver#patch', 'solver#read', 'solver:compaction']);
        const old = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string; roles: { role: string; rollout_path: string }[] };
        expect(old.status).toBe('running');
        expect(old.roles.find((r) => r.role === 'solver')?.rollout_path).toMatch(/[/\\]solver\.jsonl$/);
        const temps = tempFilesOf(runDir);
        expect(temps).toHaveLength(1);
        const next = JSON.parse(readFileSync(join(runDir, temps[0]!), 'utf8')) as typeof old;
        expect(next.roles.find((r) => r.role === 'solver')?.rollout_path).toMatch(/[/\\]solver\.1\.jsonl$/);
      },
    };
    // A plain worker creates the run and serves the first Solver step; while that step's reply is
    // held it is stopped gracefully (it completes the step, so nothing is asked twice), and the
    // failpoint worker takes over.
    const takeover = async (workers: WorkerGroup, e: Env, runId: string) => {
      let arrived: () => void = () => undefined;
      const firstStep = new Promise<void>((r) => (arrived = r));
      let release: () => void = () => undefined;
      const released = new Promise<void>((r) => (release = r));
      let held = false;
      hooks.set(runId, (_req, label, reply) => {
        if (label !== 'solver#shell' || held) return reply;
        held = true;
        arrived();
        return released.then(() => reply);
      });
      const plain = await workers.start(e.env);
      const infty = await clientFor(e);
      await infty.startRun({ runId, ...RUN_INPUT });
      await firstStep;
      const stopped = plain.stop(30_000);
      await sleep(1_500); // the worker has stopped polling before the step can end
      release();
      await stopped;
      const exit = await plain.exited;
      expect(exit.signal, `the plain worker stopped gracefully:\n${plain.output()}`).toBeNull();
      expect(requestsOf(runId).map((r) => `${failpointRunStep(r).label}:${r.status}`)).toEqual(['solver#shell:completed']);
    };
    const crash = await crashAt(c, expect, onTestFinished, takeover);
    const base = await basePromise;
    console.log(`failpoint runStore.beforeRename (mid-run takeover): ${crash.timings}`);
    compareWithBaseline(expect, c, crash, base);
  }, 300_000);
});
