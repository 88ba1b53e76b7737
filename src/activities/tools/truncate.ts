/** Head+tail truncation of tool output for the model (deterministic). */

export const DEFAULT_MAX_OUTPUT_BYTES = 10_240;

const NEWLINE = 0x0a;

function isContinuationByte(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/** Number of lines in `text` (a trailing newline does not start a new line). */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/** End offset (exclusive) of the head to keep from `buf`, at most `budget` bytes. */
function headCut(buf: Buffer, budget: number): number {
  if (budget >= buf.length) return buf.length;
  let end = Math.max(0, budget);
  while (end > 0 && isContinuationByte(buf[end])) end--;
  // Prefer ending just after a newline when one exists in the second half of the budget.
  if (end === 0) return 0;
  const nl = buf.lastIndexOf(NEWLINE, end - 1);
  if (nl !== -1 && nl + 1 >= end / 2) return nl + 1;
  return end;
}

/** Start offset of the tail to keep from `buf`, at most `budget` bytes. */
function tailCut(buf: Buffer, budget: number): number {
  if (budget >= buf.length) return 0;
  let start = buf.length - Math.max(0, budget);
  while (start < buf.length && isContinuationByte(buf[start])) start++;
  // Prefer starting at the beginning of a line when one starts in the first half of the tail.
  const nl = buf.indexOf(NEWLINE, start > 0 ? start - 1 : 0);
  if (nl !== -1 && nl + 1 <= start + (buf.length - start) / 2) return nl + 1;
  return start;
}

/** Output whose middle was already dropped while it streamed in (shell): what is kept of each end, and what was dropped. */
export interface StreamedText {
  head: string;
  tail: string;
  omittedBytes: number;
  omittedNewlines: number;
}

/** A tool's output before truncation: a whole text, or the two ends of a streamed one. */
export type ToolText = string | StreamedText;

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Bytes the header and marker can take, so that the whole result fits in `maxBytes`. */
function markerOverhead(totalLines: number, totalBytes: number): number {
  return Buffer.byteLength(`Total output lines: ${totalLines}\n\n\n[… ${totalBytes} bytes truncated …]\n`);
}

/**
 * Joins a kept head and tail around a marker line: `Total output lines: L\n\n<head>\n[… N bytes truncated …]\n<tail>`,
 * at most `maxBytes` in all. `head` and `tail` are the buffers the pieces are cut from,
 * `omittedBetween` bytes are known to lie between them (already dropped), `totalLines` is the
 * line count of the whole output.
 */
export function truncateHeadTail(head: Buffer, tail: Buffer, omittedBetween: number, totalLines: number, maxBytes = DEFAULT_MAX_OUTPUT_BYTES): string {
  const budget = Math.max(0, maxBytes - markerOverhead(totalLines, head.length + omittedBetween + tail.length));
  const headBudget = Math.floor(budget / 2);
  const tailBudget = budget - headBudget;
  const headEnd = headCut(head, headBudget);
  const tailStart = tailCut(tail, tailBudget);
  const omitted = head.length - headEnd + omittedBetween + tailStart;
  let headText = head.subarray(0, headEnd).toString('utf8');
  if (headText.length > 0 && !headText.endsWith('\n')) headText += '\n';
  const tailText = tail.subarray(tailStart).toString('utf8');
  return `Total output lines: ${totalLines}\n\n${headText}[… ${omitted} bytes truncated …]\n${tailText}`;
}

/**
 * The one truncation of tool output. Returns a text unchanged when it fits in `maxBytes` (UTF-8);
 * otherwise keeps about half of the budget from the head and half from the tail (cut at character
 * boundaries, preferably at line boundaries), joined by a `[… N bytes truncated …]` line and
 * prefixed with `Total output lines: L`; the result never exceeds `maxBytes` (for any `maxBytes`
 * above ~60). A StreamedText is cut the same way, counting its dropped middle.
 */
export function truncateToolOutput(text: ToolText, maxBytes = DEFAULT_MAX_OUTPUT_BYTES): string {
  if (typeof text !== 'string') {
    if (text.omittedBytes === 0) return truncateToolOutput(text.head + text.tail, maxBytes);
    const last = text.tail || text.head;
    const lines = countNewlines(text.head) + text.omittedNewlines + countNewlines(text.tail) + (last.endsWith('\n') ? 0 : 1);
    return truncateHeadTail(Buffer.from(text.head, 'utf8'), Buffer.from(text.tail, 'utf8'), text.omittedBytes, lines, maxBytes);
  }
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8');
  const lines = countLines(text);
  const budget = Math.max(0, maxBytes - markerOverhead(lines, buf.length));
  const headEnd = headCut(buf, Math.floor(budget / 2));
  // Give the tail its own slice so the two pieces never overlap.
  return truncateHeadTail(buf.subarray(0, headEnd), buf.subarray(headEnd), 0, lines, maxBytes);
}
