/** Prompt-cache prefix checks over the fake model server's request log. */
import { isDeepStrictEqual } from 'node:util';
import type { RecordedRequest } from './fakeModel';

export function inputOf(req: RecordedRequest): unknown[] {
  return req.wire === 'chat' ? req.body.messages : req.body.input;
}

/** Turn requests of one role split into segments at each compaction request. */
export function segmentsBetweenCompactions(requests: RecordedRequest[], role: string, runId: string): RecordedRequest[][] {
  const segments: RecordedRequest[][] = [[]];
  for (const r of requests) {
    if (r.role !== role || r.runId !== runId) continue;
    if (r.purpose === 'compaction') segments.push([]);
    else segments[segments.length - 1]!.push(r);
  }
  return segments.filter((s) => s.length > 0);
}

/** The first request pair in which the later input does not extend the earlier one exactly, if any. */
export function prefixViolation(segment: RecordedRequest[]): string | undefined {
  for (let k = 1; k < segment.length; k++) {
    const prev = segment[k - 1]!;
    const next = segment[k]!;
    const a = inputOf(prev);
    const b = inputOf(next);
    if (b.length < a.length || !isDeepStrictEqual(b.slice(0, a.length), a)) return `request ${next.seq} does not extend request ${prev.seq}`;
    if (prev.body.instructions !== next.body.instructions) return `instructions changed at request ${next.seq}`;
    if (!isDeepStrictEqual(prev.body.tools, next.body.tools)) return `tools changed at request ${next.seq}`;
  }
  return undefined;
}
