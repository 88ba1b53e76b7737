/** What a scripted run left behind, for tests that kill workers or servers under it. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordedRequest } from './fakeModel';

/** callId → journal state, for every journaled tool call of the run so far. */
export function journalStates(home: string, runId: string): Map<string, string> {
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
export function completedTwice(requests: RecordedRequest[], runId: string): string[] {
  const seen = new Map<string, number>();
  for (const r of requests) {
    if (r.runId !== runId || r.status !== 'completed') continue;
    const input = (r.body.input ?? r.body.messages ?? []) as { role?: string; content?: unknown }[];
    // The first user message tells a rotated verifier's fresh conversation from its earlier one.
    const firstUser = createHash('sha256')
      .update(JSON.stringify(input.find((i) => i.role === 'user')?.content ?? ''))
      .digest('hex')
      .slice(0, 12);
    const key = `${r.role} | ${input.length} items | conversation ${firstUser}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

/** One line of a transcript as the tests read it. */
export type TranscriptLine = { type: string; callId?: string; output?: string; input_sha256?: string; [k: string]: unknown };

/** Every `*.jsonl` transcript of the run by file name (not `.fence` files, `.lock` directories or temp files). */
export function readTranscripts(home: string, runId: string): Record<string, TranscriptLine[]> {
  const dir = join(home, 'transcripts', runId);
  const out: Record<string, TranscriptLine[]> = {};
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl') && !n.startsWith('.'))
    .sort()) {
    out[name] = readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as TranscriptLine);
  }
  return out;
}
