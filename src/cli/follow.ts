/** Following a run: poll the progress query, print new events, return the outcome when it ends. */
import type { InftyClient } from '../client';
import type { RunOutcome } from '../protocol/outcome';
import type { Progress } from '../protocol/progress';
import { formatEvent } from './render';
import { note } from './session';
import { retryTransient } from './transient';

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function follow(
  infty: InftyClient,
  runId: string,
  opts: { print: (line: string) => void; onProgress?: (p: Progress) => void },
): Promise<{ progress: Progress | undefined; outcome: RunOutcome }> {
  let lastSeq = 0;
  let last: Progress | undefined;
  let warned = false;
  for (;;) {
    const described = await retryTransient(() => infty.describe(runId));
    const running = described.status.name === 'RUNNING';
    try {
      const p = await infty.liveProgress(runId, 10_000);
      last = p;
      if (p.lastEventSeq - p.events.length > lastSeq && lastSeq > 0) opts.print(`… ${p.lastEventSeq - p.events.length - lastSeq} earlier event(s) not shown`);
      for (const e of p.events) if (e.seq > lastSeq) opts.print(formatEvent(e));
      lastSeq = Math.max(lastSeq, p.lastEventSeq);
      opts.onProgress?.(p);
      warned = false;
    } catch (err) {
      if (!running) break;
      if (!warned) note(`waiting for a worker to answer (${(err as Error).message.split('\n')[0]}); is \`infty worker\` running?`);
      warned = true;
    }
    if (!running) break;
    await sleep(POLL_MS);
  }
  return { progress: last, outcome: await retryTransient(() => infty.result(runId)) };
}
