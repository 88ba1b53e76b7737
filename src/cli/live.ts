/**
 * The live view of `infty watch` (docs/interface.md §1, §2): what the run's pending activities are
 * producing — a model step's text, a command's output — read from their last heartbeat details in
 * the workflow's description (src/protocol/live.ts). Nothing here touches workflow history.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { InftyClient } from '../client';
import { isLiveDetail, type LiveDetail, terminalSafe } from '../protocol/live';

export interface LivePartial extends LiveDetail {
  /** The pending activity's id (one per model step or tool call; its attempts share it). */
  activityId: string;
  /** When Temporal last heard from the attempt (its last heartbeat), ISO 8601; null when unknown. */
  heartbeatAt: string | null;
}

/** The live details of the run's pending activities, decoded with the client's data converter; stale ones (of an earlier attempt) left out. */
export async function livePartials(infty: InftyClient, described: WorkflowExecutionDescription): Promise<LivePartial[]> {
  const out: LivePartial[] = [];
  for (const pending of described.raw.pendingActivities ?? []) {
    const payloads = pending.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    let detail: unknown;
    try {
      detail = await decodeFromPayloadsAtIndex(infty.client.options.loadedDataConverter, 0, payloads);
    } catch {
      continue; // details of some other kind
    }
    if (!isLiveDetail(detail) || (pending.attempt && detail.attempt !== pending.attempt)) continue;
    const heartbeatMs = optionalTsToMs(pending.lastHeartbeatTime);
    out.push({
      ...detail,
      text: terminalSafe(detail.text),
      activityId: pending.activityId ?? '',
      heartbeatAt: heartbeatMs === undefined ? null : new Date(heartbeatMs).toISOString(),
    });
  }
  return out;
}

/** What a partial is, in a few words: `solver` (a model step) or `solver shell call_1` (a command). */
export function liveLabel(p: LiveDetail): string {
  return p.activity === 'modelStep' ? p.role : `${p.role} ${p.tool ?? 'tool'} ${p.callId ?? ''}`.trimEnd();
}

/** The `--json` line of a partial (docs/interface.md §2). */
export function partialJson(p: LivePartial): Record<string, unknown> {
  return {
    type: 'partial',
    role: p.role,
    activity: p.activity,
    activityId: p.activityId,
    attempt: p.attempt,
    ...(p.callId !== undefined ? { callId: p.callId } : {}),
    ...(p.tool !== undefined ? { tool: p.tool } : {}),
    text: p.text,
    bytes: p.bytes,
    at: p.at,
  };
}

/** Partials whose text (or size) changed since the last call: what `watch --json` prints. */
export class ChangedPartials {
  private last = new Map<string, string>();

  changed(partials: LivePartial[]): LivePartial[] {
    const next = new Map<string, string>();
    const out: LivePartial[] = [];
    for (const p of partials) {
      const key = `${p.activityId}#${p.attempt}`;
      const state = `${p.bytes}|${p.text}`;
      next.set(key, state);
      if (this.last.get(key) !== state) out.push(p);
    }
    this.last = next;
    return out;
  }
}

/** What `next` adds to `prev` when both are tails of one growing text; `gap`: they do not overlap (output was skipped). */
export function appended(prev: string, next: string): { text: string; gap: boolean } {
  if (prev === '' || next === '') return { text: next, gap: false };
  if (next.startsWith(prev)) return { text: next.slice(prev.length), gap: false };
  // The window slid: the longest end of prev that next starts with.
  for (let i = prev.indexOf(next[0]!); i !== -1; i = prev.indexOf(next[0]!, i + 1)) {
    if (next.startsWith(prev.slice(i))) return { text: next.slice(prev.length - i), gap: false };
  }
  return { text: next, gap: true };
}

const MAX_HELD_LINE = 200;

/**
 * `watch` without a terminal: the new lines of each partial as they complete, prefixed with
 * `~ <label>: `; an unfinished line is printed once it is long, or when the activity ends.
 */
export class LiveLines {
  private streams = new Map<string, { label: string; text: string; pending: string }>();

  feed(partials: LivePartial[]): string[] {
    const out: string[] = [];
    const present = new Set<string>();
    for (const p of partials) {
      const key = `${p.activityId}#${p.attempt}`;
      present.add(key);
      const prev = this.streams.get(key);
      const label = liveLabel(p);
      const step = appended(prev?.text ?? '', p.text);
      const skipped = step.gap || (!prev && p.bytes > Buffer.byteLength(p.text, 'utf8'));
      let pending = (skipped ? '' : (prev?.pending ?? '')) + step.text;
      if (skipped) out.push(`~ ${label}: …`);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) out.push(`~ ${label}: ${line}`);
      if (pending.length > MAX_HELD_LINE) {
        out.push(`~ ${label}: ${pending}`);
        pending = '';
      }
      this.streams.set(key, { label, text: p.text, pending });
    }
    for (const [key, s] of this.streams) {
      if (present.has(key)) continue;
      if (s.pending) out.push(`~ ${s.label}: ${s.pending}`);
      this.streams.delete(key);
    }
    return out;
  }
}

function quiet(p: LivePartial, now: number): string {
  const secs = Math.floor((now - Date.parse(p.at)) / 1000);
  return secs >= 5 ? `, nothing new for ${secs} s` : '';
}

/** The live block of `watch`'s terminal view: each partial's last lines, cut to the terminal's width. */
export function formatLiveBlock(partials: LivePartial[], opts: { lines?: number; width?: number; now?: number } = {}): string[] {
  if (partials.length === 0) return [];
  const width = Math.max(20, (opts.width ?? 100) - 6);
  const now = opts.now ?? Date.now();
  const out = ['live (heartbeat details of what is running now):'];
  for (const p of partials) {
    const what = p.activity === 'modelStep' ? 'model step, writing' : 'output';
    const size =
      p.bytes > Buffer.byteLength(p.text, 'utf8')
        ? `${p.bytes.toLocaleString('en-US')} bytes so far, the last shown`
        : `${p.bytes.toLocaleString('en-US')} bytes`;
    out.push(`  ${liveLabel(p)} (${what}${p.attempt > 1 ? `, attempt ${p.attempt}` : ''}; ${size}${quiet(p, now)}):`);
    const lines = p.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines.slice(-(opts.lines ?? 8))) out.push(`    │ ${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  }
  return out;
}
