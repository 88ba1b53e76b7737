/**
 * 3. Concurrency: M inftyRuns of K turns each, started at once on one in-process worker: turns per
 * second, p50/p99 turn latency (gaps between a run's consecutive Solver requests at the fake model
 * server), worker peak RSS (this process: worker + fake model server; the Temporal server is a
 * separate process, sampled from /proc), against M floor workflows of the same activity count.
 */
import type { Worker } from '@temporalio/worker';
import {
  type BenchModel,
  type BenchServer,
  baselineWorker,
  benchRunInput,
  countActivities,
  fetchEvents,
  fixtureText,
  floorActivities,
  type InftyHome,
  inftyDeps,
  inftyWorker,
  newHome,
  percentile,
  prepareRunDir,
  round,
  sampleMemory,
  startInfty,
  startModel,
  startServer,
  turnScript,
  uniqueId,
  withWorker,
} from './env';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface ConcurrencySize {
  runs: number[];
  turnsPerRun: number;
  fixtureBytes: number;
}

function workerSettings(worker: Worker) {
  const o = worker.options as unknown as Record<string, unknown>;
  return {
    maxCachedWorkflows: o.maxCachedWorkflows,
    workflowThreadPoolSize: o.workflowThreadPoolSize,
    reuseV8Context: o.reuseV8Context,
    tuner: o.tuner,
  };
}

async function inftyWave(server: BenchServer, model: BenchModel, home: InftyHome, M: number, K: number, fixture: string) {
  const worker = await inftyWorker(server, uniqueId('tq-conc'), inftyDeps(home, model.server));
  const tq = worker.main.options.taskQueue;
  const settings = workerSettings(worker.main);
  const runIds = Array.from({ length: M }, () => uniqueId('conc'));
  const arrivals = new Map<string, number[]>();
  for (const id of runIds) {
    prepareRunDir(home, id, fixture);
    const list: number[] = [];
    arrivals.set(id, list);
    model.routes.set(id, turnScript(K, { onTurn: () => void list.push(performance.now()) }));
  }
  // A warm-up run first, so the wave does not pay for worker start-up.
  const warmId = uniqueId('conc-warm');
  prepareRunDir(home, warmId, fixture);
  model.routes.set(warmId, turnScript(1));
  return withWorker(worker, async () => {
    await (await startInfty(server, tq, benchRunInput(warmId))).result();
    const mem = sampleMemory(server.pid);
    const t0 = performance.now();
    const outcomes = await Promise.all(
      runIds.map(async (id) => {
        const h = await startInfty(server, tq, benchRunInput(id));
        return (await h.result()) as { status: string };
      }),
    );
    const wallMs = performance.now() - t0;
    const metrics = mem.stop();
    const failed = outcomes.filter((o) => o.status !== 'delivered').length;
    if (failed) throw new Error(`${failed} of ${M} runs did not deliver`);
    const gaps: number[] = [];
    const firstRequest: number[] = [];
    for (const list of arrivals.values()) {
      firstRequest.push(list[0]! - t0);
      for (let i = 1; i < list.length; i++) gaps.push(list[i]! - list[i - 1]!);
    }
    const activitiesPerRun = countActivities(await fetchEvents(server, runIds[0]!));
    for (const id of [...runIds, warmId]) model.routes.delete(id);
    return { wallMs, gaps, firstRequest, metrics, activitiesPerRun, settings };
  });
}

async function floorWave(server: BenchServer, M: number, activities: number) {
  const worker = await baselineWorker(server, uniqueId('tq-cfloor'), floorActivities());
  const tq = worker.options.taskQueue;
  return withWorker(worker, async () => {
    await (await server.client.workflow.start('floorWorkflow', { workflowId: uniqueId('cfloor-warm'), taskQueue: tq, args: [3] })).result();
    const mem = sampleMemory(server.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: M }, async () => {
        const h = await server.client.workflow.start('floorWorkflow', { workflowId: uniqueId('cfloor'), taskQueue: tq, args: [activities] });
        await h.result();
      }),
    );
    const wallMs = performance.now() - t0;
    return { wallMs, metrics: mem.stop() };
  });
}

export async function concurrencyBench(size: ConcurrencySize): Promise<BenchOutput> {
  const server = await startServer();
  const model = await startModel();
  try {
    const home = newHome();
    const fixture = fixtureText(size.fixtureBytes);
    const K = size.turnsPerRun;
    const waves: Record<string, unknown> = {};
    const rows: Row[] = [];
    const required: string[] = [];
    for (const M of size.runs) {
      const inf = await inftyWave(server, model, home, M, K, fixture);
      const flo = await floorWave(server, M, inf.activitiesPerRun);
      const turns = M * K;
      const tps = turns / (inf.wallMs / 1000);
      const floorTps = turns / (flo.wallMs / 1000);
      const p50 = percentile(inf.gaps, 50);
      const p99 = percentile(inf.gaps, 99);
      waves[String(M)] = {
        runs: M,
        turnsPerRun: K,
        activitiesPerRun: inf.activitiesPerRun,
        infty: {
          wallMs: round(inf.wallMs),
          turnsPerSecond: round(tps, 2),
          activitiesPerSecond: round((M * inf.activitiesPerRun) / (inf.wallMs / 1000), 1),
          turnLatencyMs: { p50: round(p50), p90: round(percentile(inf.gaps, 90)), p99: round(p99), max: round(Math.max(...inf.gaps)) },
          firstRequestMs: { p50: round(percentile(inf.firstRequest, 50)), p99: round(percentile(inf.firstRequest, 99)) },
          ...inf.metrics,
        },
        floor: {
          wallMs: round(flo.wallMs),
          turnEquivalentsPerSecond: round(floorTps, 2),
          activitiesPerSecond: round((M * inf.activitiesPerRun) / (flo.wallMs / 1000), 1),
          ...flo.metrics,
        },
        throughputRatioInftyOverFloor: round(tps / floorTps, 2),
        worker: inf.settings,
      };
      required.push(
        `waves.${M}.infty.turnsPerSecond`,
        `waves.${M}.infty.turnLatencyMs.p50`,
        `waves.${M}.infty.turnLatencyMs.p99`,
        `waves.${M}.infty.peakRssMB`,
        `waves.${M}.floor.turnEquivalentsPerSecond`,
      );
      rows.push(
        {
          metric: `M=${M} runs × K=${K} turns: throughput`,
          value: `${fmt(tps)} turns/s`,
          baseline: `${fmt(floorTps)} turn-eq/s floor`,
          ratio: ratio(tps, floorTps),
          note: `${inf.activitiesPerRun} activities/run; floor = M floor workflows of that many no-ops`,
        },
        {
          metric: `M=${M}: turn latency p50 / p99`,
          value: `${fmt(p50, 0)} / ${fmt(p99, 0)} ms`,
          note: `first model request after start p50 ${fmt(percentile(inf.firstRequest, 50), 0)} ms, p99 ${fmt(percentile(inf.firstRequest, 99), 0)} ms`,
        },
        {
          metric: `M=${M}: peak RSS (worker process)`,
          value: `${fmt(inf.metrics.peakRssMB)} MB`,
          baseline: `${fmt(flo.metrics.peakRssMB)} MB floor`,
          note: `from ${fmt(inf.metrics.startRssMB)} MB; server peak ${fmt(inf.metrics.serverPeakRssMB)} MB`,
        },
        {
          metric: `M=${M}: CPU (cores busy)`,
          value: `worker ${fmt(inf.metrics.benchProcessCores, 2)}, server ${fmt(inf.metrics.serverCores, 2)}`,
          baseline: `worker ${fmt(flo.metrics.benchProcessCores, 2)}, server ${fmt(flo.metrics.serverCores, 2)}`,
        },
      );
    }
    return { rows, data: { waves }, required };
  } finally {
    await model.close();
    await server.stop();
  }
}
