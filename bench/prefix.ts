/**
 * 5. Prompt-cache prefix ratio: over a long run with compactions, the share of each Solver
 * request's input (JSON bytes of the input items) that is an exact prefix of the previous Solver
 * request's input (item by item; 0 when the instructions or tools changed, since they come first
 * in the prompt). Reported over all requests and without the first request after each compaction
 * (a rebuilt history cannot share a prefix). Baseline: the ideal, 1.0 — which even a perfect
 * append-only history cannot reach, since each request adds the new turn's items: a request
 * extending the previous one exactly scores previous bytes / current bytes.
 */
import type { RecordedRequest } from '../src/fakeModel/types';
import {
  benchRunInput,
  fixtureText,
  inftyDeps,
  inftyWorker,
  mean,
  newHome,
  prepareRunDir,
  readFileOutput,
  round,
  startInfty,
  startModel,
  startServer,
  turnScript,
  uniqueId,
  withWorker,
} from './env';
import { type BenchOutput, fmt, type Row } from './report';

export interface PrefixSize {
  turns: number;
  contextWindow: number;
  fixtureBytes: number;
}

interface Shot {
  seq: number;
  purpose: string;
  items: number;
  bytes: number;
  prefixBytes: number;
  share: number;
  /** What an append-only history would score: previous bytes / current bytes (at most 1). */
  idealShare: number;
  /** Same, ignoring a change of instructions or tools. */
  itemShare: number;
  /** The previous request's input is entirely a prefix of this one (with the same instructions and tools). */
  extendsPrevious: boolean;
  headerChanged: boolean;
  afterCompaction: boolean;
}

function inputOf(req: RecordedRequest): unknown[] {
  const input = req.wire === 'chat' ? req.body?.messages : req.body?.input;
  return Array.isArray(input) ? input : [];
}

export async function prefixBench(size: PrefixSize): Promise<BenchOutput> {
  const server = await startServer();
  const model = await startModel();
  try {
    const home = newHome();
    const fixture = fixtureText(size.fixtureBytes);
    const toolOutputBytes = Buffer.byteLength(await readFileOutput(fixture));
    const runId = uniqueId('prefix');
    prepareRunDir(home, runId, fixture);

    const shots: Shot[] = [];
    let prev: { items: string[]; header: string; purpose: string; bytes: number } | undefined;
    const measure = (req: RecordedRequest) => {
      if (req.role !== 'solver') return;
      const items = inputOf(req).map((i) => JSON.stringify(i));
      const header = JSON.stringify([req.body?.instructions ?? null, req.body?.tools ?? null]);
      const bytes = Buffer.byteLength(`[${items.join(',')}]`);
      if (prev) {
        let k = 0;
        while (k < items.length && k < prev.items.length && items[k] === prev.items[k]) k++;
        // "[" + the common items + the commas between them.
        const itemPrefixBytes = k === 0 ? 0 : 1 + items.slice(0, k).reduce((s, x) => s + Buffer.byteLength(x), 0) + (k - 1);
        const headerChanged = prev.header !== header;
        const prefixBytes = headerChanged ? 0 : itemPrefixBytes;
        shots.push({
          seq: req.seq,
          purpose: req.purpose ?? '?',
          items: items.length,
          bytes,
          prefixBytes,
          share: prefixBytes / bytes,
          idealShare: Math.min(1, prev.bytes / bytes),
          itemShare: itemPrefixBytes / bytes,
          extendsPrevious: !headerChanged && k === prev.items.length,
          headerChanged,
          afterCompaction: prev.purpose === 'compaction',
        });
      }
      prev = { items, header, purpose: req.purpose ?? '?', bytes };
    };
    const script = turnScript(size.turns);
    model.routes.set(runId, (req) => {
      measure(req);
      return script(req);
    });

    const worker = await inftyWorker(server, uniqueId('tq-prefix'), inftyDeps(home, model.server));
    const t0 = performance.now();
    await withWorker(worker, async () => {
      const handle = await startInfty(server, worker.main.options.taskQueue, benchRunInput(runId, { contextWindow: size.contextWindow }));
      const outcome = (await handle.result()) as { status: string; reason?: string };
      if (outcome.status !== 'delivered') throw new Error(`run ${runId} ended ${outcome.status}: ${outcome.reason ?? ''}`);
    });
    const seconds = (performance.now() - t0) / 1000;

    const all = shots;
    const steady = shots.filter((s) => !s.afterCompaction);
    const turnsOnly = steady.filter((s) => s.purpose === 'turn');
    const compactionReqs = shots.filter((s) => s.purpose === 'compaction');
    const firstAfter = shots.filter((s) => s.afterCompaction);
    const weighted = (xs: Shot[]) => xs.reduce((s, x) => s + x.prefixBytes, 0) / xs.reduce((s, x) => s + x.bytes, 0);
    const meanAll = mean(all.map((s) => s.share));
    const meanSteady = mean(steady.map((s) => s.share));
    const data = {
      turns: size.turns,
      contextWindow: size.contextWindow,
      toolOutputBytes,
      requests: shots.length + 1,
      compactions: compactionReqs.length,
      meanShareAll: round(meanAll, 4),
      meanShareExcludingFirstAfterCompaction: round(meanSteady, 4),
      meanIdealShareExcludingFirstAfterCompaction: round(mean(steady.map((s) => s.idealShare)), 4),
      measuredOverIdealExcludingFirstAfterCompaction: round(meanSteady / mean(steady.map((s) => s.idealShare)), 4),
      meanShareTurnRequestsOnly: round(mean(turnsOnly.map((s) => s.share)), 4),
      turnRequestsMeasuredOverIdeal: round(mean(turnsOnly.map((s) => s.share)) / mean(turnsOnly.map((s) => s.idealShare)), 4),
      meanShareCompactionRequests: round(mean(compactionReqs.map((s) => s.share)), 4),
      meanShareFirstAfterCompaction: round(mean(firstAfter.map((s) => s.share)), 4),
      byteWeightedShareAll: round(weighted(all), 4),
      meanItemShareCompactionRequests: round(mean(compactionReqs.map((s) => s.itemShare)), 4),
      compactionRequestsWithChangedInstructionsOrTools: compactionReqs.filter((s) => s.headerChanged).length,
      minShareExcludingFirstAfterCompaction: round(Math.min(...steady.map((s) => s.share)), 4),
      minTurnShareExcludingFirstAfterCompaction: round(Math.min(...turnsOnly.map((s) => s.share)), 4),
      turnRequestsNotExtendingPrevious: turnsOnly.filter((s) => !s.extendsPrevious).length,
      turnRequestsExcludingFirstAfterCompaction: turnsOnly.length,
      meanInputKiB: round(mean(all.map((s) => s.bytes)) / 1024, 1),
      seconds: round(seconds),
    };
    const rows: Row[] = [
      {
        metric: `Solver requests (${size.turns} turns, window ${size.contextWindow} tok)`,
        value: `${data.requests}`,
        note: `${data.compactions} compactions; ${toolOutputBytes} B per tool output; mean input ${fmt(data.meanInputKiB)} KiB`,
      },
      {
        metric: 'prefix share, all requests',
        value: fmt(meanAll, 3),
        baseline: '1.000 ideal',
        ratio: `${fmt(meanAll * 100, 1)}%`,
        note: `byte-weighted ${fmt(data.byteWeightedShareAll, 3)}`,
      },
      {
        metric: 'prefix share, w/o first after compaction',
        value: fmt(meanSteady, 3),
        baseline: `${fmt(data.meanIdealShareExcludingFirstAfterCompaction, 3)} append-only`,
        ratio: `${fmt(data.measuredOverIdealExcludingFirstAfterCompaction, 3)}×`,
        note: `turn requests only ${fmt(data.meanShareTurnRequestsOnly, 3)} (${fmt(data.turnRequestsMeasuredOverIdeal, 3)}× append-only); ${data.turnRequestsNotExtendingPrevious} of ${data.turnRequestsExcludingFirstAfterCompaction} do not extend the previous request exactly`,
      },
      {
        metric: 'prefix share, compaction requests',
        value: fmt(data.meanShareCompactionRequests, 3),
        note: `items alone ${fmt(data.meanItemShareCompactionRequests, 3)}; ${data.compactionRequestsWithChangedInstructionsOrTools} of ${data.compactions} change instructions/tools (breaks the cached prefix)`,
      },
      {
        metric: 'prefix share, first request after compaction',
        value: fmt(data.meanShareFirstAfterCompaction, 3),
        note: 'rebuilt history (instructions, user messages, summary)',
      },
    ];
    return { rows, data, required: ['meanShareAll', 'meanShareExcludingFirstAfterCompaction', 'compactions'] };
  } finally {
    await model.close();
    await server.stop();
  }
}
