/**
 * Workflow history as Temporal stores it, with every payload decoded (the raw JSON of
 * `temporal workflow show` base64-encodes them, so a secret or an output could hide there).
 */
import type { Client } from '@temporalio/client';

interface Payload {
  metadata?: Record<string, Uint8Array>;
  data?: Uint8Array;
}

function isPayload(v: unknown): v is Payload {
  return typeof v === 'object' && v !== null && 'data' in v && (v as Payload).data instanceof Uint8Array && 'metadata' in v;
}

/** Every payload's decoded data, in history order (all runs of a continue-as-new chain from `runId`'s first). */
export async function decodedPayloads(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (isPayload(v)) {
      out.push(Buffer.from(v.data!).toString('utf8'));
      return;
    }
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) Object.values(v).forEach(walk);
  };
  walk(history.events);
  return out;
}

/** The whole history as one decoded text (for "is X anywhere in history" checks). */
export async function decodedHistoryText(client: Client, workflowId: string): Promise<string> {
  return (await decodedPayloads(client, workflowId)).join('\n');
}

export function countOccurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

interface PatchMarkerEvent {
  markerRecordedEventAttributes?: {
    markerName?: string | null;
    details?: Record<string, { payloads?: { data?: Uint8Array | string | null }[] | null }> | null;
  } | null;
}

/** The JSON in a history's `markerName` markers' `detail` payload: from the client (bytes) or a fixture's proto JSON (base64). */
function markerJson<T>(events: PatchMarkerEvent[], markerName: string, detail: string): T[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === markerName ? marker.details?.[detail]?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    const text = typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data).toString('utf8');
    return [JSON.parse(text) as T];
  });
}

/** The patch ids of a history's `core_patch` markers. */
export function patchIds(events: PatchMarkerEvent[]): string[] {
  return markerJson<{ id: string }>(events, 'core_patch', 'patch-data').map((p) => p.id);
}

/** The activity types of a history's local activities (`core_local_activity` markers), in order. */
export function localActivityTypes(events: PatchMarkerEvent[]): string[] {
  return markerJson<{ activity_type: string }>(events, 'core_local_activity', 'data').map((a) => a.activity_type);
}
