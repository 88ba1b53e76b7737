/**
 * The live view (docs/interface.md §1 `watch`): what a running model step or command has produced
 * so far, carried in the activity's heartbeat details. Temporal keeps only an activity's last
 * heartbeat, outside workflow history (a timed-out attempt's failure records its last details), so
 * the stream never grows history; the Web UI shows the details of pending activities as they are.
 */

/** The text of a live detail is the last this many bytes (UTF-8) of the output at most. */
export const MAX_LIVE_TEXT_BYTES = 2048;

/** How often a worker recomputes a live detail at most (heartbeats reach the server at most once a second). */
export const LIVE_RECOMPUTE_MS = 250;

/** The heartbeat details of `modelStep` (the model's text and tool-call arguments) and `runToolCall` (a command's output). */
export interface LiveDetail {
  v: 1;
  activity: 'modelStep' | 'runToolCall';
  role: string;
  /** The attempt that produced it: a retry's pending activity shows the previous attempt's last details until it heartbeats. */
  attempt: number;
  /** runToolCall: the tool call's id and tool. */
  callId?: string;
  tool?: string;
  /** The last ≤ MAX_LIVE_TEXT_BYTES of the output, secrets scrubbed, control characters removed (line breaks kept). */
  text: string;
  /** Bytes produced so far, before scrubbing and bounding (text is a tail when it is larger). */
  bytes: number;
  /** When the worker took it (ISO 8601). */
  at: string;
}

export function isLiveDetail(v: unknown): v is LiveDetail {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Partial<LiveDetail>;
  return d.v === 1 && (d.activity === 'modelStep' || d.activity === 'runToolCall') && typeof d.role === 'string' && typeof d.text === 'string';
}

/**
 * Text safe to show on a terminal: ANSI escape sequences and control characters removed, carriage
 * returns turned into line breaks, tabs and line breaks kept.
 */
export function terminalSafe(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI CSI escape sequences (ESC [ ...) to strip them
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI OSC escape sequences (ESC ] ... BEL or ESC \\) to strip them
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
      .replace(/\r\n/g, '\n')
      .replace(/\r/g, '\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the remaining C0/C1 control characters (tab and line feed kept)
      .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '')
  );
}

/** The last `max` bytes of `text` in UTF-8, never starting inside a character. */
export function utf8Tail(text: string, max: number): string {
  if (text.length * 3 <= max) return text; // at most 3 bytes per UTF-16 unit
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let start = bytes.length - max;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}
