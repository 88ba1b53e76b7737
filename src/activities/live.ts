/**
 * The live detail of a running model step or command (src/protocol/live.ts): the tail of what it
 * has produced, kept bounded as it streams, scrubbed of the worker's secrets like tool output, and
 * recomputed at most every LIVE_RECOMPUTE_MS, so heartbeating it on every streamed chunk is cheap.
 */
import { LIVE_RECOMPUTE_MS, type LiveDetail, MAX_LIVE_TEXT_BYTES, terminalSafe, utf8Tail } from '../protocol/live';
import { type SecretValue, scrubWith, secretValues } from './secrets';

/** A piece of a secret shorter than this is shown: it gives nothing away, and holding it back would hold back ordinary text. */
const MIN_SECRET_PIECE = 4;

export type LiveSource = Pick<LiveDetail, 'activity' | 'role' | 'attempt' | 'callId' | 'tool'>;

/** The longest k (≥ MIN_SECRET_PIECE) such that `text` ends with the first k characters of a secret (still arriving). */
function trailingSecretPiece(text: string, secrets: SecretValue[]): number {
  let held = 0;
  for (const { value } of secrets) {
    for (let k = Math.min(value.length - 1, text.length); k >= Math.max(MIN_SECRET_PIECE, held + 1); k--) {
      if (text.endsWith(value.slice(0, k))) {
        held = k;
        break;
      }
    }
  }
  return held;
}

/** The longest k (≥ MIN_SECRET_PIECE) such that `text` starts with the last k characters of a secret (cut off by the window). */
function leadingSecretPiece(text: string, secrets: SecretValue[]): number {
  let cut = 0;
  for (const { value } of secrets) {
    for (let k = Math.min(value.length - 1, text.length); k >= Math.max(MIN_SECRET_PIECE, cut + 1); k--) {
      if (text.startsWith(value.slice(value.length - k))) {
        cut = k;
        break;
      }
    }
  }
  return cut;
}

export class LiveText {
  private buf = '';
  /** Whether text before `buf` was dropped. */
  private cut = false;
  private bytes = 0;
  private dirty = false;
  private computedAt = 0;
  private last: LiveDetail | undefined;
  private readonly secrets: SecretValue[];
  /** Characters of the window: the bound, plus room for a secret cut at its start. */
  private readonly keep: number;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly source: LiveSource,
    env: NodeJS.ProcessEnv = process.env,
    private readonly now: () => number = Date.now,
  ) {
    this.secrets = secretValues(env);
    this.keep = MAX_LIVE_TEXT_BYTES + this.secrets.reduce((n, s) => Math.max(n, s.value.length), 0) + 64;
  }

  /** Text the model produced. */
  text(delta: string): void {
    if (!delta) return;
    this.bytes += Buffer.byteLength(delta, 'utf8');
    this.add(delta);
  }

  /** Output of a command (stdout and stderr as they interleave). */
  output(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.add(this.decoder.decode(chunk, { stream: true }));
  }

  /** A new output item (a tool call the model starts): a line of its own, `[call NAME] `; not counted in `bytes`. */
  mark(label: string): void {
    this.add(`${this.buf === '' && !this.cut ? '' : '\n'}[${label}] `);
  }

  private add(text: string): void {
    if (!text) return;
    this.buf += text;
    if (this.buf.length > 2 * this.keep) {
      this.buf = this.buf.slice(-this.keep);
      this.cut = true;
    }
    this.dirty = true;
  }

  /** The detail to heartbeat: undefined until something was produced (a non-streaming endpoint: never). */
  detail(): LiveDetail | undefined {
    if (!this.dirty) return this.last;
    const now = this.now();
    if (this.last && now - this.computedAt < LIVE_RECOMPUTE_MS) return this.last;
    this.dirty = false;
    this.computedAt = now;
    this.last = { v: 1, ...this.source, text: this.render(), bytes: this.bytes, at: new Date(now).toISOString() };
    return this.last;
  }

  private render(): string {
    const cut = this.cut || this.buf.length > this.keep;
    let text = this.buf.length > this.keep ? this.buf.slice(-this.keep) : this.buf;
    text = scrubWith(text, this.secrets);
    // A secret still arriving is held back until it is whole (and then scrubbed); one the window cut is dropped.
    text = text.slice(0, text.length - trailingSecretPiece(text, this.secrets));
    if (cut) text = text.slice(leadingSecretPiece(text, this.secrets));
    // A window cut between the halves of a surrogate pair.
    if (cut && /^[\udc00-\udfff]/.test(text)) text = text.slice(1);
    return utf8Tail(terminalSafe(text), MAX_LIVE_TEXT_BYTES);
  }
}
