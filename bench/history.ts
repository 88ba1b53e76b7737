/**
 * 2. History growth: workflow history bytes and events of one inftyRun at turn c1, c2, c3 (tool
 * outputs of a fixed size from read_file of a fixed file), against a naive workflow that passes the
 * whole conversation through every model activity (bench/floorWorkflows.ts), same turn counts.
 *
 * Measurements are taken at the arrival of the Solver's (c+1)-th model request, i.e. while the run
 * waits on that model call after c complete turns, so every checkpoint sees the same event mix.
 * Temporal suggests continue-as-new at 4 Ki events / 4 MiB by default, which inftyRun honours; this
 * benchmark's server raises those two suggestion thresholds so the run stays one execution (the
 * hard limits, 50 MiB / 51,200 events, stay at their defaults and are what the naive run hits).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transcriptPath } from '../src/activities/transcripts';
import { progressQuery } from '../src/protocol/names';
import {
  baselineWorker,
  benchRunInput,
  describeHistory,
  FIXTURE,
  fixtureText,
  inftyDeps,
  inftyWorker,
  lastEvent,
  mb,
  naiveActivities,
  newHome,
  prepareRunDir,
  readFileOutput,
  round,
  scratch,
  startInfty,
  startModel,
  startServer,
  turnScript,
  uniqueId,
  withWorker,
} from './env';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface HistorySize {
  checkpoints: number[];
  fixtureBytes: number;
  /** The naive run stops here at the latest (or when the server stops it). */
  naiveCap: number;
}

interface Sample {
  turn: number;
  bytes: number;
  events: number;
  transcriptBytes?: number;
}

interface Window {
  from: number;
  to: number;
  bytesPerTurn: number;
  eventsPerTurn: number;
}

function windows(samples: Sample[], checkpoints: number[]): Window[] {
  const at = new Map(samples.map((s) => [s.turn, s]));
  const out: Window[] = [];
  let prev: Sample = { turn: 0, bytes: 0, events: 0 };
  for (const c of checkpoints) {
    const s = at.get(c);
    if (!s) break;
    out.push({
      from: prev.turn,
      to: c,
      bytesPerTurn: round((s.bytes - prev.bytes) / (c - prev.turn), 1),
      eventsPerTurn: round((s.events - prev.events) / (c - prev.turn), 2),
    });
    prev = s;
  }
  return out;
}

export async function historyBench(size: HistorySize): Promise<BenchOutput> {
  const server = await startServer({
    dynamicConfig: {
      'limit.historyCount.suggestContinueAsNew': 10_000_000,
      'limit.historySize.suggestContinueAsNew': 1_000_000_000,
    },
  });
  const model = await startModel();
  try {
    const fixture = fixtureText(size.fixtureBytes);
    const toolOutputBytes = Buffer.byteLength(await readFileOutput(fixture));
    const checkpoints = [...size.checkpoints].sort((a, b) => a - b);
    const wanted = new Set(checkpoints);
    const lastTurn = checkpoints[checkpoints.length - 1]!;

    // --- inftyRun (claim-check).
    const home = newHome();
    const runId = uniqueId('hist');
    prepareRunDir(home, runId, fixture);
    const inftySamples: Sample[] = [];
    const transcript = transcriptPath(home.home, runId, 'solver', 0);
    model.routes.set(
      runId,
      turnScript(lastTurn, {
        async onTurn(n) {
          const done = n - 1;
          if (!wanted.has(done)) return;
          const h = await describeHistory(server, runId);
          inftySamples.push({ turn: done, bytes: h.bytes, events: h.events, transcriptBytes: statSync(transcript).size });
        },
      }),
    );
    const worker = await inftyWorker(server, uniqueId('tq-hist'), inftyDeps(home, model.server));
    const t0 = performance.now();
    const inftyEnd = await withWorker(worker, async () => {
      const handle = await startInfty(server, worker.main.options.taskQueue, benchRunInput(runId));
      const outcome = (await handle.result()) as { status: string; reason?: string };
      if (outcome.status !== 'delivered') throw new Error(`run ${runId} ended ${outcome.status}: ${outcome.reason ?? ''}`);
      const progress = await server.client.workflow.getHandle(runId).query(progressQuery);
      return { final: await describeHistory(server, runId), continueAsNewCount: progress.continueAsNewCount };
    });
    const inftySeconds = (performance.now() - t0) / 1000;
    model.routes.delete(runId);

    // --- the naive loop (conversation through every activity).
    const fixtureDir = scratch('naive');
    writeFileSync(join(fixtureDir, FIXTURE), fixture);
    const naiveId = uniqueId('naive');
    const naiveSamples: Sample[] = [];
    let naiveTurnsStarted = 0;
    const nworker = await baselineWorker(
      server,
      uniqueId('tq-naive'),
      naiveActivities({
        fixtureDir,
        async onModel(input) {
          naiveTurnsStarted = input.turn;
          const h = await describeHistory(server, naiveId);
          naiveSamples.push({ turn: input.turn - 1, bytes: h.bytes, events: h.events });
        },
      }),
    );
    const n0 = performance.now();
    const naiveEnd = await withWorker(nworker, async () => {
      const handle = await server.client.workflow.start('naiveAgentWorkflow', {
        workflowId: naiveId,
        taskQueue: nworker.options.taskQueue,
        args: [{ runId: naiveId, objective: 'Benchmark: read the file and deliver.', maxTurns: Math.min(size.naiveCap, lastTurn) }],
      });
      try {
        const r = (await handle.result()) as { turns: number };
        return { completed: true, turns: r.turns, status: 'COMPLETED', reason: undefined as string | undefined };
      } catch (err) {
        const d = await describeHistory(server, naiveId).catch(() => undefined);
        const last = await lastEvent(server, naiveId).catch(() => undefined);
        const attrs = last?.workflowExecutionTerminatedEventAttributes ?? last?.workflowExecutionFailedEventAttributes;
        const reason = attrs?.reason ?? attrs?.failure?.message ?? (err as Error).message;
        return { completed: false, turns: naiveTurnsStarted - 1, status: d?.status ?? 'unknown', reason: String(reason) };
      }
    });
    const naiveSeconds = (performance.now() - n0) / 1000;
    const naiveFinal = await describeHistory(server, naiveId).catch(() => undefined);
    const naiveLast = naiveSamples[naiveSamples.length - 1];

    const iw = windows(inftySamples, checkpoints);
    const nw = windows(naiveSamples, checkpoints);
    const atTurn = (samples: Sample[], t: number) => samples.find((s) => s.turn === t);
    const firstExceeding = (limit: number) => naiveSamples.find((s) => s.bytes > limit);
    const naiveNote = naiveEnd.completed
      ? `completed ${naiveEnd.turns} turns`
      : `stopped by the server at turn ~${naiveEnd.turns + 1} (${naiveEnd.status}): ${naiveEnd.reason}; last measured ${mb(naiveLast?.bytes ?? NaN)} MB / ${naiveLast?.events} events at turn ${naiveLast?.turn}`;

    const data = {
      toolOutputBytes,
      checkpoints,
      infty: {
        samples: inftySamples.map((s) => ({ ...s, bytesPerToolOutputByte: round(s.bytes / (s.turn * toolOutputBytes), 2) })),
        windows: iw,
        growthRatioLastOverFirstWindow: iw.length >= 2 ? round(iw[iw.length - 1]!.bytesPerTurn / iw[0]!.bytesPerTurn, 2) : NaN,
        growthRatioLastOverPreviousWindow: iw.length >= 2 ? round(iw[iw.length - 1]!.bytesPerTurn / iw[iw.length - 2]!.bytesPerTurn, 2) : NaN,
        finalHistory: inftyEnd.final,
        continueAsNewCount: inftyEnd.continueAsNewCount,
        seconds: round(inftySeconds),
      },
      naive: {
        samples: naiveSamples.filter((s) => wanted.has(s.turn)),
        windows: nw,
        growthRatioLastOverFirstWindow: nw.length >= 2 ? round(nw[nw.length - 1]!.bytesPerTurn / nw[0]!.bytesPerTurn, 2) : NaN,
        completed: naiveEnd.completed,
        turnsCompleted: naiveEnd.turns,
        status: naiveEnd.status,
        reason: naiveEnd.reason,
        lastSample: naiveLast,
        finalHistory: naiveFinal,
        firstTurnOver10MB: firstExceeding(10 * 2 ** 20)?.turn,
        firstTurnOver40MB: firstExceeding(40 * 2 ** 20)?.turn,
        seconds: round(naiveSeconds),
      },
      naiveOverInftyBytesAt: Object.fromEntries(
        checkpoints.flatMap((c) => {
          const a = atTurn(naiveSamples, c);
          const b = atTurn(inftySamples, c);
          return a && b ? [[String(c), round(a.bytes / b.bytes, 2)]] : [];
        }),
      ),
    };

    const rows: Row[] = [];
    rows.push({ metric: 'read_file output per turn', value: `${toolOutputBytes} B` });
    for (const s of inftySamples) {
      const n = atTurn(naiveSamples, s.turn);
      rows.push({
        metric: `history at turn ${s.turn}: inftyRun vs naive`,
        value: `${fmt(s.bytes / 1024)} KiB, ${s.events} ev`,
        baseline: n ? `${fmt(n.bytes / 1024)} KiB, ${n.events} ev` : 'n/a (naive died)',
        ratio: n ? `naive ${ratio(n.bytes, s.bytes, 1)}` : '',
        note: `transcript on disk ${fmt((s.transcriptBytes ?? 0) / 1024)} KiB (outside history)`,
      });
    }
    for (const w of iw) {
      const n = nw.find((x) => x.from === w.from && x.to === w.to);
      rows.push({
        metric: `bytes/turn, turns ${w.from}→${w.to}`,
        value: `${fmt(w.bytesPerTurn, 0)} B (${fmt(w.eventsPerTurn)} ev)`,
        baseline: n ? `${fmt(n.bytesPerTurn, 0)} B naive` : 'n/a (naive died)',
        ratio: n ? `naive ${ratio(n.bytesPerTurn, w.bytesPerTurn, 1)}` : '',
        note: `inftyRun ${fmt(w.bytesPerTurn / toolOutputBytes, 2)}× the tool output`,
      });
    }
    rows.push({
      metric: 'growth ratio (last window / first window)',
      value: `inftyRun ${fmt(data.infty.growthRatioLastOverFirstWindow, 2)}`,
      baseline: `naive ${fmt(data.naive.growthRatioLastOverFirstWindow, 2)}`,
      note: `≈1 = grows with new content only; inftyRun continued-as-new ${inftyEnd.continueAsNewCount}×`,
    });
    rows.push({ metric: 'naive run', value: naiveEnd.completed ? 'completed' : 'stopped', note: naiveNote });
    return {
      rows,
      data,
      required: [
        'toolOutputBytes',
        'infty.growthRatioLastOverFirstWindow',
        'naive.growthRatioLastOverFirstWindow',
        ...checkpoints.map((_, i) => `infty.windows.${i}.bytesPerTurn`),
      ],
    };
  } finally {
    await model.close();
    await server.stop();
  }
}
