/**
 * 7. Capacity at model speed: N inftyRuns of K turns each, started at once on one in-process
 * worker, against a scripted model in its own process (bench/capacityModel.ts) whose every reply
 * takes 2 s ± 50 % (uniform), streamed. Each wave has its own Temporal dev server (in-memory SQLite,
 * one history shard: the dev server, not a production cluster) and its own worker.
 *
 * Figures per wave:
 * - sustained turns/s: N × K Solver turns over the wave's wall time (first start to last result);
 * - orchestration delay per turn: for each pair of consecutive model requests of a run, the time
 *   from the end of the first reply (its last byte written by the model) to the arrival of the next
 *   request. That gap holds everything Infty and Temporal do between two model calls — the model
 *   step's completion and transcript write, the workflow tasks, the tool activity, the next model
 *   step's dispatch — and nothing of the model's own time; p50 / p99 / max;
 * - cold start: each run's first model request after its start call was issued (max and p50), and
 *   where that time went, from the sampled runs' histories (each workflow task's and activity's
 *   schedule-to-start and start-to-close up to the first model step);
 * - the worker process's CPU (cores busy) and peak RSS (this process: worker and client), memory per
 *   run ((peak − idle RSS before the wave) / N), the Temporal server's CPU and peak RSS (from /proc),
 *   and the model process's CPU.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { Tuning } from '../src/worker';
import type { CapacityModelConfig, ModelCall, ModelMessage } from './capacityModel';
import {
  benchRunInput,
  fetchEvents,
  fixtureText,
  inftyWorker,
  MODEL_NAME,
  mb,
  newHome,
  percentile,
  prepareRunDir,
  procCpuMs,
  round,
  sampleMemory,
  startInfty,
  startServer,
  tsMs,
  uniqueId,
} from './env';
import { type BenchOutput, fmt, type Row } from './report';

export interface CapacitySize {
  runs: number[];
  turnsPerRun: number;
  /** Mean model time per reply; each reply takes latencyMs × (1 ± jitter). */
  latencyMs: number;
  jitter: number;
  fixtureBytes: number;
  /** Runs started at once, one turn each, for the cold-start figures. */
  coldStartRuns: number;
  /** Histories read per wave for the cold-start and per-turn breakdowns (evenly spread, the last-started included). */
  historySample: number;
  /** Worker options for this benchmark only (`--capacity-tuning='{"maxCachedWorkflows":100}'`), for measuring a setting. */
  tuning?: Tuning;
}

type AnyEvent = Record<string, any>;

/** How long the cold-start phase holds first replies at most, waiting for every run's first request. */
const HOLD_FIRST_MS = 10_000;

const nowMs = () => performance.timeOrigin + performance.now();

interface ModelProcess {
  child: ChildProcess;
  baseUrl: string;
  /** When the last of `notifyFirst` runs made its first request (ms since the epoch), with the worker's and server's CPU time then. */
  allFirst: Promise<{ at: number; workerCpuMs: number; serverCpuMs: number }>;
  report(): Promise<{ runs: Record<string, ModelCall[]>; maxInFlight: number }>;
}

async function startModelProcess(config: CapacityModelConfig, serverPid: number): Promise<ModelProcess> {
  const child = fork(join(__dirname, 'capacityModel.js'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: ModelMessage) => (m.type === 'ready' ? resolve(m.baseUrl) : reject(new Error('capacity model: unexpected message'))));
    child.once('exit', (code) => reject(new Error(`capacity model exited with ${code}`)));
  });
  const allFirst = new Promise<{ at: number; workerCpuMs: number; serverCpuMs: number }>((resolve) => {
    child.on('message', (m: ModelMessage) => {
      if (m.type !== 'allFirst') return;
      const cpu = process.cpuUsage();
      resolve({ at: m.at, workerCpuMs: (cpu.user + cpu.system) / 1000, serverCpuMs: procCpuMs(serverPid) });
    });
  });
  return {
    child,
    baseUrl,
    allFirst,
    report: () =>
      new Promise((resolve) => {
        const on = (m: ModelMessage) => {
          if (m.type !== 'report') return;
          child.off('message', on);
          resolve({ runs: m.runs, maxInFlight: m.maxInFlight });
        };
        child.on('message', on);
        child.send({ type: 'report' });
      }),
  };
}

function workerSettings(worker: Worker) {
  const o = worker.options as unknown as Record<string, any>;
  return {
    maxCachedWorkflows: o.maxCachedWorkflows,
    reuseV8Context: o.reuseV8Context,
    workflowTaskSlots: o.tuner?.workflowTaskSlotSupplier?.numSlots ?? o.tuner?.workflowTaskSlotSupplier?.type,
    activityTaskSlots: o.tuner?.activityTaskSlotSupplier?.numSlots ?? o.tuner?.activityTaskSlotSupplier?.type,
    workflowTaskPollers: o.workflowTaskPollerBehavior,
    activityTaskPollers: o.activityTaskPollerBehavior,
    nonStickyToStickyPollRatio: o.nonStickyToStickyPollRatio,
  };
}

/** Milliseconds spent in each step up to the first model step's start, labelled in order ("wft1 wait", "createRun run", ...). */
function coldStartSteps(events: AnyEvent[], issuedAt: number): Record<string, number> {
  const byId = new Map<string, AnyEvent>();
  for (const e of events) byId.set(String(e.eventId), e);
  const out: Record<string, number> = {};
  const first = events[0];
  if (first) out['start call → started'] = tsMs(first.eventTime) - issuedAt;
  let wft = 0;
  for (const e of events) {
    if (e.workflowTaskStartedEventAttributes) {
      wft += 1;
      const sched = byId.get(String(e.workflowTaskStartedEventAttributes.scheduledEventId));
      if (sched) out[`workflow task ${wft} wait`] = tsMs(e.eventTime) - tsMs(sched.eventTime);
    } else if (e.workflowTaskCompletedEventAttributes) {
      const started = byId.get(String(e.workflowTaskCompletedEventAttributes.startedEventId));
      if (started) out[`workflow task ${wft} run`] = tsMs(e.eventTime) - tsMs(started.eventTime);
    } else if (e.activityTaskStartedEventAttributes) {
      const sched = byId.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      const name = sched?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      if (sched) out[`${name} wait`] = tsMs(e.eventTime) - tsMs(sched.eventTime);
      if (name === 'modelStep') return out;
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const started = byId.get(String(a.startedEventId));
      const name = byId.get(String(a.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      if (started) out[`${name} run`] = tsMs(e.eventTime) - tsMs(started.eventTime);
    }
  }
  return out;
}

/** Per turn (after the first model step): mean workflow-task and activity waits and run times, from the histories. */
function perTurnSteps(events: AnyEvent[], turns: number): Record<string, number> {
  const byId = new Map<string, AnyEvent>();
  for (const e of events) byId.set(String(e.eventId), e);
  const sums: Record<string, number> = {};
  const add = (k: string, v: number) => {
    sums[k] = (sums[k] ?? 0) + v;
  };
  let sawModelStep = false;
  for (const e of events) {
    if (e.activityTaskStartedEventAttributes) {
      const sched = byId.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      const name = sched?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      if (name === 'modelStep' && !sawModelStep) {
        sawModelStep = true;
        continue;
      }
      if (sawModelStep && sched) add('activity wait', tsMs(e.eventTime) - tsMs(sched.eventTime));
    }
    if (!sawModelStep) continue;
    if (e.workflowTaskStartedEventAttributes) {
      const sched = byId.get(String(e.workflowTaskStartedEventAttributes.scheduledEventId));
      if (sched) add('workflow task wait', tsMs(e.eventTime) - tsMs(sched.eventTime));
    } else if (e.workflowTaskCompletedEventAttributes) {
      const started = byId.get(String(e.workflowTaskCompletedEventAttributes.startedEventId));
      if (started) add('workflow task run', tsMs(e.eventTime) - tsMs(started.eventTime));
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const name = byId.get(String(a.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
      if (name === 'modelStep') continue; // the model's own time
      const started = byId.get(String(a.startedEventId));
      if (started) add(`${name} run`, tsMs(e.eventTime) - tsMs(started.eventTime));
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / turns]));
}

/** Per label: p50 and max over the runs. */
function summarise(samples: Record<string, number>[]): Record<string, { p50: number; max: number }> {
  const labels = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  return Object.fromEntries(
    labels.map((l) => {
      const values = samples.map((s) => s[l]).filter((v): v is number => Number.isFinite(v));
      return [l, { p50: round(percentile(values, 50)), max: round(Math.max(...values)) }];
    }),
  );
}

function sampleIndexes(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let i = 0; i < k; i++) out.add(Math.round((i * (n - 1)) / (k - 1)));
  return [...out];
}

/**
 * N runs of `turns` turns started at once. `coldStart`: no first reply before every run has made its
 * first request (or HOLD_FIRST_MS have passed), so that the start-up is measured on its own and all
 * N model calls are open at once; also the worker's and server's CPU time until then.
 */
async function wave(N: number, size: CapacitySize, seed: number, turns: number, coldStart = false) {
  const server = await startServer();
  const model = await startModelProcess(
    { turns, latencyMs: size.latencyMs, jitter: size.jitter, seed, ...(coldStart && { notifyFirst: N, holdFirstMs: HOLD_FIRST_MS }) },
    server.pid,
  );
  try {
    const home = newHome();
    const fixture = fixtureText(size.fixtureBytes);
    const deps = {
      home: home.home,
      runsRoot: home.runsRoot,
      defaultModel: MODEL_NAME,
      endpoint: { baseURL: model.baseUrl, apiKey: 'bench', wireApi: 'responses' as const, stream: true },
    };
    const worker = await inftyWorker(server, uniqueId('tq-cap'), deps, size.tuning ?? {});
    const tq = worker.main.options.taskQueue;
    const settings = workerSettings(worker.main);
    const runIds = Array.from({ length: N }, () => uniqueId('cap'));
    for (const id of runIds) prepareRunDir(home, id, fixture);
    const warmId = uniqueId('cap-warm');
    prepareRunDir(home, warmId, fixture);
    return await worker.runUntil(
      (async () => {
        // A warm-up run first, so the wave does not pay for worker start-up.
        await (await startInfty(server, tq, benchRunInput(warmId))).result();
        const idleRss = process.memoryUsage().rss;
        const mem = sampleMemory(server.pid);
        const model0 = procCpuMs(model.child.pid!);
        const cpu0 = process.cpuUsage();
        const server0 = procCpuMs(server.pid);
        const t0 = nowMs();
        const issuedAt = new Map<string, number>();
        const outcomes = await Promise.all(
          runIds.map(async (id) => {
            issuedAt.set(id, nowMs());
            const h = await startInfty(server, tq, benchRunInput(id));
            return (await h.result()) as { status: string };
          }),
        );
        const wallMs = nowMs() - t0;
        const metrics = mem.stop();
        const modelCores = (procCpuMs(model.child.pid!) - model0) / wallMs;
        const failed = outcomes.filter((o) => o.status !== 'delivered').length;
        if (failed) throw new Error(`${failed} of ${N} runs did not deliver`);

        const { runs: calls, maxInFlight } = await model.report();
        const gaps: number[] = [];
        const firstRequest: number[] = [];
        const modelMs: number[] = [];
        for (const id of runIds) {
          const list = calls[id] ?? [];
          if (list.length < turns + 1) throw new Error(`run ${id}: ${list.length} model requests, expected ${turns + 1}`);
          firstRequest.push(list[0]!.arrivedAt - issuedAt.get(id)!);
          for (const c of list) modelMs.push(c.endedAt - c.arrivedAt);
          for (let i = 1; i < list.length; i++) gaps.push(list[i]!.arrivedAt - list[i - 1]!.endedAt);
        }

        const sampled = sampleIndexes(N, size.historySample).map((i) => runIds[i]!);
        const cold: Record<string, number>[] = [];
        const perTurn: Record<string, number>[] = [];
        for (const id of sampled) {
          const events = await fetchEvents(server, id);
          cold.push(coldStartSteps(events, issuedAt.get(id)!));
          perTurn.push(perTurnSteps(events, turns));
        }
        const allFirst = coldStart ? await model.allFirst : undefined;
        const meanModelMs = modelMs.reduce((a, b) => a + b, 0) / modelMs.length;
        return {
          runs: N,
          turnsPerRun: turns,
          wallMs: round(wallMs),
          turnsPerSecond: round((N * turns) / (wallMs / 1000), 2),
          /** What N runs would do if orchestration took no time: each run one model reply per mean model time. */
          modelBoundTurnsPerSecond: round(N / (meanModelMs / 1000), 2),
          modelMs: { mean: round(meanModelMs), p50: round(percentile(modelMs, 50)), p99: round(percentile(modelMs, 99)) },
          orchestrationDelayMs: {
            p50: round(percentile(gaps, 50)),
            p90: round(percentile(gaps, 90)),
            p99: round(percentile(gaps, 99)),
            max: round(Math.max(...gaps)),
          },
          firstRequestMs: { p50: round(percentile(firstRequest, 50)), p99: round(percentile(firstRequest, 99)), max: round(Math.max(...firstRequest)) },
          ...(allFirst && {
            coldStart: {
              allStartedMs: round(allFirst.at - t0),
              workerCpuMsPerRun: round((allFirst.workerCpuMs - (cpu0.user + cpu0.system) / 1000) / N, 2),
              serverCpuMsPerRun: round((allFirst.serverCpuMs - server0) / N, 2),
            },
          }),
          worker: {
            idleRssMB: mb(idleRss),
            peakRssMB: metrics.peakRssMB,
            memoryPerRunMB: round((metrics.peakRssMB - mb(idleRss)) / N, 2),
            cores: metrics.benchProcessCores,
          },
          server: { peakRssMB: metrics.serverPeakRssMB, cores: metrics.serverCores },
          modelProcessCores: round(modelCores, 2),
          /** Most model calls open at once (each holds one of the worker's activity slots). */
          maxModelCallsInFlight: maxInFlight,
          coldStartStepsMs: summarise(cold),
          perTurnStepsMs: summarise(perTurn),
          historiesSampled: sampled.length,
          settings,
        };
      })(),
    );
  } finally {
    model.child.disconnect();
    await server.stop();
  }
}

export async function capacityBench(size: CapacitySize): Promise<BenchOutput> {
  const waves: Record<string, Awaited<ReturnType<typeof wave>>> = {};
  const rows: Row[] = [];
  const required: string[] = [];
  const C = size.coldStartRuns;
  process.stderr.write(`  [7] cold start: ${C} runs started at once ...\n`);
  const cold = await wave(C, size, 99, 1, true);
  required.push('coldStart.firstRequestMs.max', 'coldStart.firstRequestMs.p50', 'coldStart.maxModelCallsInFlight');
  rows.push(
    {
      metric: `cold start: ${C} runs started at once, first model request after start p50 / max`,
      value: `${fmt(cold.firstRequestMs.p50, 0)} / ${fmt(cold.firstRequestMs.max, 0)} ms`,
      note: `worker CPU ${fmt(cold.coldStart?.workerCpuMsPerRun)} ms a run, server ${fmt(cold.coldStart?.serverCpuMsPerRun)} ms; first workflow task wait max ${fmt(cold.coldStartStepsMs['workflow task 1 wait']?.max, 0)} ms`,
    },
    {
      metric: `cold start: model calls open at once (replies held up to ${HOLD_FIRST_MS / 1000} s)`,
      value: `${cold.maxModelCallsInFlight} of ${C}`,
      note: `activity slots ${cold.settings.activityTaskSlots} per queue`,
    },
  );
  for (const [i, N] of size.runs.entries()) {
    process.stderr.write(`  [7] ${N} runs × ${size.turnsPerRun} turns, model ${size.latencyMs} ms ± ${size.jitter * 100} % ...\n`);
    const w = await wave(N, size, 1 + i, size.turnsPerRun);
    waves[String(N)] = w;
    required.push(
      `waves.${N}.turnsPerSecond`,
      `waves.${N}.orchestrationDelayMs.p50`,
      `waves.${N}.orchestrationDelayMs.p99`,
      `waves.${N}.firstRequestMs.max`,
      `waves.${N}.worker.peakRssMB`,
      `waves.${N}.server.peakRssMB`,
    );
    rows.push(
      {
        metric: `N=${N} runs × ${size.turnsPerRun} turns: throughput`,
        value: `${fmt(w.turnsPerSecond, 2)} turns/s`,
        baseline: `${fmt(w.modelBoundTurnsPerSecond, 2)} turns/s model-bound`,
        ratio: `${fmt(w.turnsPerSecond / w.modelBoundTurnsPerSecond, 2)}×`,
        note: `model ${fmt(w.modelMs.mean, 0)} ms a reply (mean)`,
      },
      {
        metric: `N=${N}: orchestration delay per turn p50 / p99`,
        value: `${fmt(w.orchestrationDelayMs.p50, 0)} / ${fmt(w.orchestrationDelayMs.p99, 0)} ms`,
        note: `max ${fmt(w.orchestrationDelayMs.max, 0)} ms; end of a reply to the run's next request`,
      },
      {
        metric: `N=${N}: first model request after start p50 / max`,
        value: `${fmt(w.firstRequestMs.p50, 0)} / ${fmt(w.firstRequestMs.max, 0)} ms`,
      },
      {
        metric: `N=${N}: worker process peak RSS / CPU`,
        value: `${fmt(w.worker.peakRssMB, 0)} MB / ${fmt(w.worker.cores, 2)} cores`,
        note: `${fmt(w.worker.memoryPerRunMB, 2)} MB per run over idle ${fmt(w.worker.idleRssMB, 0)} MB`,
      },
      {
        metric: `N=${N}: Temporal dev server peak RSS / CPU`,
        value: `${fmt(w.server.peakRssMB, 0)} MB / ${fmt(w.server.cores, 2)} cores`,
        note: `model process ${fmt(w.modelProcessCores, 2)} cores`,
      },
    );
  }
  return { rows, data: { latencyMs: size.latencyMs, jitter: size.jitter, coldStart: cold, waves }, required };
}
