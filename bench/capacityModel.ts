/**
 * The capacity benchmark's model (bench/capacity.ts), run in its own process (child_process.fork)
 * so that the worker process's CPU and memory figures are the worker's alone and the model's
 * timers are not held up by the worker's event loop.
 *
 * Every run gets `turns` Solver replies that each read the fixture, then a final delivery. Each
 * reply takes latencyMs × (1 ± jitter) (uniform, seeded): 70 % before its first event, the rest
 * spread evenly over its streamed events. For each run the process records when each request
 * arrived and when its reply's last byte was written (ms since the epoch), and sends them to the
 * parent when asked ({type: 'report'}).
 *
 * argv[2]: JSON {turns, latencyMs, jitter, seed, notifyFirst?, holdFirstMs?}. Runs whose id contains
 * "warm" are answered at once. With `notifyFirst` = N, the parent gets {type: 'allFirst'} as soon as
 * N runs have made their first request (it then reads the CPU time the cold start took). With
 * `holdFirstMs` as well, no first reply starts before then, or before holdFirstMs after the first
 * request: every run's model call is open at once, as with a slow model, and the report's
 * maxInFlight says how many the worker could keep open (each holds an activity slot).
 */
import { seededRandom } from '../src/fakeModel/seededRandom';
import { renderJson, renderStream, SSE_HEADERS, startFakeModelServer, toWireReply } from '../src/fakeModel/server';
import type { RecordedRequest, ReplyExchange, ScriptedReply } from '../src/fakeModel/types';

export interface CapacityModelConfig {
  turns: number;
  latencyMs: number;
  jitter: number;
  seed: number;
  notifyFirst?: number;
  holdFirstMs?: number;
}

/** One model request of a run: arrival and end of its reply (ms since the epoch), and its role. */
export interface ModelCall {
  role: string;
  arrivedAt: number;
  endedAt: number;
}

export type ModelMessage =
  | { type: 'ready'; baseUrl: string }
  | { type: 'allFirst'; at: number }
  | { type: 'report'; runs: Record<string, ModelCall[]>; maxInFlight: number };

type Timed = { kind: 'timed'; latencyMs: number; streamMs: number; inner: Extract<ScriptedReply, { kind: 'message' | 'tool_calls' }> };

const now = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as CapacityModelConfig;
  const random = seededRandom(config.seed);
  const calls = new Map<string, ModelCall[]>();
  const turnsSeen = new Map<string, number>();
  let reads = 0;
  let firstRequests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const countFirst = (runId: string, first: boolean): Promise<void> | undefined => {
    if (!config.notifyFirst || runId.includes('warm') || !first) return undefined;
    firstRequests += 1;
    if (firstRequests === 1 && config.holdFirstMs) setTimeout(release, config.holdFirstMs);
    if (firstRequests === config.notifyFirst) {
      process.send?.({ type: 'allFirst', at: now() } satisfies ModelMessage);
      release();
    }
    return config.holdFirstMs ? held : undefined;
  };

  const replyFor = (req: RecordedRequest): Timed['inner'] => {
    if (req.role !== 'solver') return deliver;
    const n = (turnsSeen.get(req.runId ?? '') ?? 0) + 1;
    turnsSeen.set(req.runId ?? '', n);
    if (n > config.turns) return deliver;
    // Each call's arguments differ: the same call over and over is what the convergence watchdog stops.
    return { kind: 'tool_calls', calls: [{ name: 'read_file', arguments: { path: 'bench.txt', limit: 1_000_000 + reads++ } }] };
  };

  const server = await startFakeModelServer<Timed>({
    responder: async (req) => {
      server.requests.splice(0);
      const runId = req.runId ?? '?';
      const list = calls.get(runId) ?? [];
      calls.set(runId, list);
      list.push({ role: req.role ?? '?', arrivedAt: now(), endedAt: Number.NaN });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await countFirst(runId, list.length === 1);
      const total = runId.includes('warm') ? 0 : config.latencyMs * (1 + config.jitter * (2 * random() - 1));
      return { kind: 'timed', latencyMs: Math.round(total * 0.7), streamMs: Math.round(total * 0.3), inner: replyFor(req) };
    },
    answerOther: (ex, rec, reply) =>
      answer(ex, rec, reply, calls).finally(() => {
        inFlight -= 1;
      }),
  });
  process.send?.({ type: 'ready', baseUrl: server.baseUrl } satisfies ModelMessage);
  process.on('message', (msg: { type?: string }) => {
    if (msg?.type === 'report') process.send?.({ type: 'report', runs: Object.fromEntries(calls), maxInFlight } satisfies ModelMessage);
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
}

/** Streams the reply (its first event already delayed by the server by `latencyMs`), then records when it ended. */
async function answer(ex: ReplyExchange, rec: RecordedRequest, reply: Timed, calls: Map<string, ModelCall[]>): Promise<void> {
  const wire = toWireReply(rec, reply.inner);
  const call = calls.get(rec.runId ?? '?')?.at(-1);
  if (!rec.stream) {
    ex.res.writeHead(200, { 'content-type': 'application/json' });
    ex.end(JSON.stringify(renderJson(rec, wire)));
  } else {
    const { frames, tail } = renderStream(rec, wire);
    const all = [...frames, ...tail];
    const gap = all.length > 1 ? reply.streamMs / (all.length - 1) : 0;
    ex.res.writeHead(200, SSE_HEADERS);
    ex.res.flushHeaders();
    for (const [i, frame] of all.entries()) {
      if (!ex.write(frame)) return;
      if (i < all.length - 1 && gap > 0 && !(await ex.sleep(gap))) return;
    }
    ex.end();
  }
  rec.status = 'completed';
  if (call) call.endedAt = now();
}

const deliver: Timed['inner'] = {
  kind: 'message',
  text: JSON.stringify({ type: 'final_delivery', prompt: null, deliverable_path: 'deliverable', summary: 'done' }),
};

main().catch((err) => {
  process.stderr.write(`capacity model: ${err?.stack ?? err}\n`);
  process.exit(1);
});
