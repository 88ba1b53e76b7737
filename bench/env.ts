/**
 * What every benchmark needs: a Temporal dev server it starts itself (headless, free port,
 * in-memory), the workflow bundles (each bundled once per process), in-process workers, a
 * zero-latency scripted model server, run-directory fixtures and small statistics helpers.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../src/activities';
import { executeTool } from '../src/activities/tools';
import { startFakeModelServer } from '../src/fakeModel/server';
import type * as Scripted from '../src/fakeModel/types';
import type { RunInputRaw } from '../src/protocol/runInput';
import { type DevServerHandle, freePort, startDevServer } from '../src/server';
import { projectRoot } from '../src/temporalCli';
import { createInftyWorker, type InftyWorker, type InftyWorkerOptions } from '../src/worker';
import { bundleOptions } from '../src/workflowBundle';
import type { NaiveActivities, NaiveItem } from './floorWorkflows';

export const ROOT = projectRoot();
export const NAMESPACE = 'default';
export const MODEL_NAME = 'fake-model';
/** No compaction unless a benchmark asks for it (the fake server estimates tokens as bytes / 4). */
export const HUGE_CONTEXT = 1_000_000_000;

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let runtimeInstalled = false;
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed
  }
}

// ---------------------------------------------------------------------------------------------
// Scratch space, removed at exit.

const scratchDirs: string[] = [];
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `infty-bench-${prefix}-`));
  scratchDirs.push(dir);
  return dir;
}
export function removeScratch(): void {
  for (const d of scratchDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Workflow bundles: each bundled once per process with bundleWorkflowCode.

let inftyBundle: Promise<{ path: string; ms: number }> | undefined;
let baselineBundle: Promise<{ path: string; ms: number }> | undefined;

async function bundleTo(name: string, options: Omit<Parameters<typeof bundleWorkflowCode>[0], 'logger'>): Promise<{ path: string; ms: number }> {
  const t0 = performance.now();
  const { code } = await bundleWorkflowCode({ ...options, logger: quietLogger });
  const path = join(scratch('bundle'), name);
  writeFileSync(path, code);
  return { path, ms: performance.now() - t0 };
}

/** The inftyRun bundle (from the compiled workflows in dist/src), also handed to child workers. */
export async function inftyBundlePath(): Promise<string> {
  inftyBundle ??= bundleTo('infty-workflow-bundle.js', bundleOptions());
  const { path } = await inftyBundle;
  // createInftyWorker takes its workflow code from here.
  process.env.INFTY_WORKFLOW_BUNDLE = path;
  return path;
}

/** The floor and naive workflows (bench/floorWorkflows), bundled on their own. */
export async function baselineBundlePath(): Promise<string> {
  baselineBundle ??= bundleTo('baseline-workflow-bundle.js', { workflowsPath: join(__dirname, 'floorWorkflows.js') });
  return (await baselineBundle).path;
}

export async function bundleTimes(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (inftyBundle !== undefined) out.inftyRunMs = Math.round((await inftyBundle).ms);
  if (baselineBundle !== undefined) out.baselineMs = Math.round((await baselineBundle).ms);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The Temporal dev server.

/** Dynamic config applied to every server this process starts (`--dynamic-config KEY=VALUE`). */
export const globalDynamicConfig: Record<string, string | number | boolean> = {};

/**
 * Temporal's own default for the dev server's transfer-queue reads (20/s), which delays every
 * workflow task by ~35 ms once its burst is used up. The embedded server raises it
 * (DEFAULT_DYNAMIC_CONFIG in src/server.ts); benchmark 1 also measures Temporal's default.
 */
export const TEMPORAL_DEFAULT_TRANSFER_QUEUE = { 'history.transferProcessorMaxPollRPS': 20 };

export interface BenchServer {
  address: string;
  pid: number;
  client: Client;
  native: NativeConnection;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` (headless, free port, in-memory) through startDevServer.
 * `dynamicConfig` values are passed as extra `--dynamic-config-value` flags through a tiny
 * wrapper script around the real binary (startDevServer has no option for them).
 */
export async function startServer(opts: { dynamicConfig?: Record<string, string | number | boolean> } = {}): Promise<BenchServer> {
  installQuietRuntime();
  const dynamicConfig = { ...globalDynamicConfig, ...(opts.dynamicConfig ?? {}) };
  const port = await freePort();
  const handle: DevServerHandle = await startDevServer({ port, headless: true, namespace: NAMESPACE, dynamicConfig });
  const connection = await Connection.connect({ address: handle.address });
  const native = await NativeConnection.connect({ address: handle.address });
  return {
    address: handle.address,
    pid: handle.pid,
    client: new Client({ connection, namespace: NAMESPACE }),
    native,
    async stop() {
      await native.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await handle.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workers (in-process).

export interface InftyHome {
  home: string;
  runsRoot: string;
}

export function newHome(): InftyHome {
  const home = scratch('home');
  return { home, runsRoot: join(home, 'runs') };
}

export function inftyDeps(home: InftyHome, model: FakeModelServer): ActivityDeps {
  return {
    home: home.home,
    runsRoot: home.runsRoot,
    defaultModel: MODEL_NAME,
    endpoint: { baseURL: model.baseUrl, apiKey: 'bench', wireApi: 'responses', stream: true },
  };
}

export async function inftyWorker(server: BenchServer, taskQueue: string, deps: ActivityDeps, tuning: InftyWorkerOptions['tuning'] = {}): Promise<InftyWorker> {
  await inftyBundlePath();
  return createInftyWorker({
    connection: server.native,
    namespace: NAMESPACE,
    taskQueue,
    deps,
    tuning: { shutdownGraceTime: '1 second', ...tuning },
  });
}

export async function baselineWorker(server: BenchServer, taskQueue: string, activities: object): Promise<Worker> {
  return Worker.create({
    connection: server.native,
    namespace: NAMESPACE,
    taskQueue,
    workflowBundle: { codePath: await baselineBundlePath() },
    activities,
    shutdownGraceTime: '1 second',
  });
}

/** Runs `fn` while `worker` polls, then shuts the worker down. */
export async function withWorker<T>(worker: Pick<Worker, 'runUntil'>, fn: () => Promise<T>): Promise<T> {
  return worker.runUntil(fn());
}

/** Starts inftyRun directly (one RPC, like the floor; InftyClient.startRun also checks the id first). */
export function startInfty(server: BenchServer, taskQueue: string, input: RunInputRaw): Promise<WorkflowHandle> {
  return server.client.workflow.start('inftyRun', { workflowId: input.runId, taskQueue, args: [input] });
}

export function benchRunInput(runId: string, extra: Partial<RunInputRaw> = {}): RunInputRaw {
  return {
    runId,
    objective: 'Benchmark: read the file and deliver.',
    verifiers: [],
    sandbox: 'none',
    contextWindow: HUGE_CONTEXT,
    continueAsNewAfterEvents: 1_000_000,
    ...extra,
  };
}

let idCounter = 0;
export function uniqueId(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${idCounter}`;
}

// ---------------------------------------------------------------------------------------------
// The scripted model server: the product's (src/fakeModel), plus the one reply a benchmark needs
// that it does not render — a call left unanswered while its worker is killed.

/** Never answered: the request stays open until the client gives up or the server closes. */
export type HangReply = { kind: 'hang' };
export type ScriptedReply = Scripted.ScriptedReply | HangReply;
export type RecordedRequest = Scripted.RecordedRequest;
export type Responder = Scripted.Responder<ScriptedReply>;
export type FakeModelServer = Scripted.FakeModelServer<ScriptedReply>;

export interface BenchModel {
  server: FakeModelServer;
  /** Per-run responders, by the x-infty-run-id header. */
  routes: Map<string, Responder>;
  close(): Promise<void>;
}

/**
 * A zero-latency fake model server routing each request to its run's responder. The server's own
 * request log is cleared on every request (long runs would otherwise keep every request body,
 * quadratic in the conversation length); benchmarks record what they need themselves.
 */
export async function startModel(): Promise<BenchModel> {
  const routes = new Map<string, Responder>();
  let server: FakeModelServer | undefined;
  const responder: Responder = (req) => {
    server?.requests.splice(0);
    const route = req.runId !== undefined ? routes.get(req.runId) : undefined;
    if (!route) return { kind: 'error', status: 500, message: `no route for run ${req.runId}` };
    return route(req);
  };
  // A HangReply: answer nothing until the client goes away.
  const hang: Scripted.StartFakeModelServerOptions<HangReply>['answerOther'] = (ex) =>
    new Promise<void>((resolve) => (ex.gone || ex.res.destroyed ? resolve() : ex.res.once('close', () => resolve())));
  server = await startFakeModelServer<HangReply>({ responder, answerOther: hang });
  const s = server;
  return { server: s, routes, close: () => s.close() };
}

export const FIXTURE = 'bench.txt';

let reads = 0;
/**
 * A read of the whole fixture. Each call's arguments differ (a line limit far above the file's
 * length, so the output is the same): the same call over and over is what the convergence
 * watchdog stops (docs/behaviour.md §3.7), and the benchmarks measure a Solver that makes progress.
 */
export const readFixture = (): ScriptedReply => ({
  kind: 'tool_calls',
  calls: [{ name: 'read_file', arguments: { path: FIXTURE, limit: 1_000_000 + (reads++ % 1_000_000) } }],
});

export const deliverReply = (): ScriptedReply => ({
  kind: 'message',
  text: JSON.stringify({ type: 'final_delivery', prompt: null, deliverable_path: 'deliverable', summary: 'done' }),
});

export const summaryReply = (req: RecordedRequest): ScriptedReply => ({
  kind: 'message',
  text: `Summary of ${Array.isArray(req.body?.input) ? req.body.input.length : 0} items: read the benchmark file repeatedly; nothing else happened.`,
});

export interface TurnScriptHooks {
  /** Called on the Solver's n-th turn request (1-based) before it is answered. */
  onTurn?(n: number, req: RecordedRequest): void | Promise<void>;
  /** Replaces the reply of the n-th turn request. */
  reply?(n: number, req: RecordedRequest): ScriptedReply | undefined | Promise<ScriptedReply | undefined>;
}

/** `turns` Solver steps that each read the fixture, then a final delivery; compactions get a short summary. */
export function turnScript(turns: number, hooks: TurnScriptHooks = {}): Responder & { turnsSeen(): number } {
  let n = 0;
  const responder = (async (req: RecordedRequest) => {
    if (req.purpose === 'compaction') return summaryReply(req);
    if (req.role !== 'solver') return deliverReply();
    n += 1;
    await hooks.onTurn?.(n, req);
    const custom = await hooks.reply?.(n, req);
    if (custom) return custom;
    return n <= turns ? readFixture() : deliverReply();
  }) as Responder & { turnsSeen(): number };
  responder.turnsSeen = () => n;
  return responder;
}

/** A file of about `bytes` bytes in lines of `lineLength` characters. */
export function fixtureText(bytes: number, lineLength = 63): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 1; size < bytes; i++) {
    const line = `${i} ${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(lineLength / 36))}`.slice(0, lineLength);
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Creates the run directory before the run starts (createRun keeps an existing directory) with the fixture. */
export function prepareRunDir(home: InftyHome, runId: string, fixture: string): string {
  const dir = join(home.runsRoot, runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FIXTURE), fixture);
  return dir;
}

/** The exact read_file output the Solver gets for `fixture` (what a tool output costs in history). */
export async function readFileOutput(fixture: string): Promise<string> {
  const dir = scratch('fixture');
  writeFileSync(join(dir, FIXTURE), fixture);
  return (await executeTool('read_file', JSON.stringify({ path: FIXTURE }), { runDir: dir, sandbox: 'none', allowNetwork: false })).output;
}

// ---------------------------------------------------------------------------------------------
// Baseline activities (floor and naive).

export function floorActivities() {
  return { async noop(): Promise<void> {} };
}

/**
 * The naive loop's activities: the "model" appends a read_file call (or, after maxTurns, a final
 * message) to the conversation it was given and returns all of it; the tool runs the real
 * read_file over a directory holding the same fixture as the inftyRun runs.
 */
export function naiveActivities(opts: { fixtureDir: string; onModel?(input: Parameters<NaiveActivities['naiveModel']>[0]): Promise<void> }): NaiveActivities {
  return {
    async naiveModel(input) {
      await opts.onModel?.(input);
      const out: NaiveItem[] = [...input.conversation];
      if (input.turn > input.maxTurns) out.push({ type: 'message', role: 'assistant', text: 'done' });
      else out.push({ type: 'function_call', callId: `call_${input.turn}`, name: 'read_file', arguments: JSON.stringify({ path: FIXTURE }) });
      return out;
    },
    async naiveTool(input) {
      return (await executeTool(input.call.name, input.call.arguments, { runDir: opts.fixtureDir, sandbox: 'none', allowNetwork: false })).output;
    },
  };
}

export { createActivities };

// ---------------------------------------------------------------------------------------------
// History.

type AnyEvent = Record<string, any>;

/** A history event's timestamp in ms since the epoch. */
export function tsMs(t: any): number {
  if (!t) return NaN;
  const s = typeof t.seconds === 'object' && t.seconds !== null ? Number(t.seconds.toString()) : Number(t.seconds ?? 0);
  return s * 1000 + (t.nanos ?? 0) / 1e6;
}

export async function fetchEvents(server: BenchServer, workflowId: string): Promise<AnyEvent[]> {
  const history = await server.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []) as AnyEvent[];
}

export function countActivities(events: AnyEvent[]): number {
  return events.filter((e) => e.activityTaskScheduledEventAttributes).length;
}

export interface Breakdown {
  /** Sum over the run, ms. */
  workflowTaskScheduleToStart: number;
  workflowTaskStartToComplete: number;
  workflowTasks: number;
  activities: Record<string, { count: number; scheduleToStart: number; startToClose: number }>;
  /** First event to last event, ms. */
  span: number;
}

/** Where the time of a run went, from the server's event timestamps. */
export function historyBreakdown(events: AnyEvent[]): Breakdown {
  const byId = new Map<string, AnyEvent>();
  for (const e of events) byId.set(String(e.eventId), e);
  const b: Breakdown = { workflowTaskScheduleToStart: 0, workflowTaskStartToComplete: 0, workflowTasks: 0, activities: {}, span: 0 };
  for (const e of events) {
    if (e.workflowTaskStartedEventAttributes) {
      const sched = byId.get(String(e.workflowTaskStartedEventAttributes.scheduledEventId));
      if (sched) b.workflowTaskScheduleToStart += tsMs(e.eventTime) - tsMs(sched.eventTime);
    } else if (e.workflowTaskCompletedEventAttributes) {
      const started = byId.get(String(e.workflowTaskCompletedEventAttributes.startedEventId));
      if (started) b.workflowTaskStartToComplete += tsMs(e.eventTime) - tsMs(started.eventTime);
      b.workflowTasks += 1;
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const sched = byId.get(String(a.scheduledEventId));
      const started = byId.get(String(a.startedEventId));
      if (!sched || !started) continue;
      const name = sched.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      b.activities[name] ??= { count: 0, scheduleToStart: 0, startToClose: 0 };
      const slot = b.activities[name];
      slot.count += 1;
      slot.scheduleToStart += tsMs(started.eventTime) - tsMs(sched.eventTime);
      slot.startToClose += tsMs(e.eventTime) - tsMs(started.eventTime);
    }
  }
  if (events.length > 1) b.span = tsMs(events[events.length - 1]!.eventTime) - tsMs(events[0]!.eventTime);
  return b;
}

export async function describeHistory(server: BenchServer, workflowId: string): Promise<{ bytes: number; events: number; status: string }> {
  const d = await server.client.workflow.getHandle(workflowId).describe();
  return { bytes: Number(d.historySize ?? NaN), events: d.historyLength, status: d.status.name };
}

/** The last event of a workflow's history (cheap, reverse order). */
export async function lastEvent(server: BenchServer, workflowId: string): Promise<AnyEvent | undefined> {
  const res = await server.client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: NAMESPACE,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  return (res.history?.events?.[0] ?? undefined) as AnyEvent | undefined;
}

// ---------------------------------------------------------------------------------------------
// Process metrics.

/** Samples this process's RSS and a child process's RSS (from /proc) until stopped. */
export function sampleMemory(otherPid?: number, everyMs = 50) {
  let peak = process.memoryUsage().rss;
  let otherPeak = otherPid ? procRss(otherPid) : 0;
  const startRss = peak;
  const cpu0 = process.cpuUsage();
  const other0 = otherPid ? procCpuMs(otherPid) : 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (otherPid) otherPeak = Math.max(otherPeak, procRss(otherPid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return {
        startRssMB: mb(startRss),
        peakRssMB: mb(peak),
        serverPeakRssMB: otherPid ? mb(otherPeak) : undefined,
        /** CPU time / wall time (1.0 = one core busy). */
        benchProcessCores: round((cpu.user + cpu.system) / 1000 / wall, 2),
        serverCores: otherPid ? round((procCpuMs(otherPid) - other0) / wall, 2) : undefined,
      };
    },
  };
}

function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process in ms (Linux /proc; 0 elsewhere). */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics.

export const mb = (bytes: number) => round(bytes / (1024 * 1024), 1);
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}
export const median = (values: number[]) => percentile(values, 50);
export const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
