/** Bounded capture of a command's interleaved stdout+stderr. */
import type { ToolText } from './truncate';

/** Output kept in memory from each end; anything in between is dropped as it streams. */
export const CAPTURE_HEAD_BYTES = 1 << 20;
export const CAPTURE_TAIL_BYTES = 1 << 20;

const UTF8_CONTINUATION = 0xc0;

/** Decodes bytes for the model: invalid UTF-8 and NUL bytes become U+FFFD. */
function decode(buf: Buffer): string {
  return buf.toString('utf8').replace(/\0/g, '\uFFFD');
}

/** Keeps the first and last megabyte, counts everything, and notices output that is not text. */
export class OutputCapture {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  private droppedNewlines = 0;
  private binary = false;
  private readonly validator = new TextDecoder('utf-8', { fatal: true });
  total = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    this.checkText(chunk);
    if (this.headBytes < CAPTURE_HEAD_BYTES) {
      const take = Math.min(chunk.length, CAPTURE_HEAD_BYTES - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0]!.length >= CAPTURE_TAIL_BYTES) {
      const first = this.tail.shift()!;
      this.tailBytes -= first.length;
      this.dropped += first.length;
      for (let i = first.indexOf(0x0a); i !== -1; i = first.indexOf(0x0a, i + 1)) this.droppedNewlines++;
    }
  }

  private checkText(chunk: Buffer): void {
    if (this.binary) return;
    if (chunk.includes(0)) {
      this.binary = true;
      return;
    }
    try {
      this.validator.decode(chunk, { stream: true });
    } catch {
      this.binary = true;
    }
  }

  /** The captured output (not yet truncated), after `prefix` and a note when it is not text. */
  text(prefix: string): ToolText {
    if (!this.binary) {
      try {
        this.validator.decode(); // an incomplete character at the very end
      } catch {
        this.binary = true;
      }
    }
    const note = this.binary ? `[binary output (${this.total} bytes): bytes that are not UTF-8 text are shown as \uFFFD]\n` : '';
    const start = prefix + note;
    if (this.dropped === 0) return start + decode(Buffer.concat([...this.head, ...this.tail]));
    // Do not start the tail in the middle of a character.
    let tail = Buffer.concat(this.tail);
    let skip = 0;
    while (skip < 3 && skip < tail.length && (tail[skip]! & UTF8_CONTINUATION) === 0x80) skip++;
    tail = tail.subarray(skip);
    return {
      head: start + decode(Buffer.concat(this.head)),
      tail: decode(tail),
      omittedBytes: this.dropped + skip,
      omittedNewlines: this.droppedNewlines,
    };
  }
}
