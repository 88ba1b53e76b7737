/**
 * Per-role transcripts outside workflow history (docs/architecture.md decision 1): append-only JSONL under
 * INFTY_HOME/transcripts/<run_id>/. Every write is fenced to one activity attempt and fsynced
 * (docs/architecture.md decision 10). A fork's transcript may start with a shared prefix line (decision 13). A model step ends with a `step_end` line holding its input hash and usage, so a
 * retried step that finds its response already written for the same committed prefix reuses it
 * instead of paying for it again (docs/behaviour.md §8).
 */

import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { type StepEnd, type TranscriptItem, transcriptFileName } from '../protocol/items';
import { withFence } from './durable/fence';
import { appendDurable, writeFileDurable } from './durable/files';
import { ABSENT, type CachedTranscript, fileId, type ReadFile, sameFile, textBytes, transcriptCache } from './transcriptCache';
import { fileText, readTranscriptLines } from './transcriptPrefix';

export function transcriptsDir(home: string, runId: string): string {
  return join(home, 'transcripts', runId);
}

export function transcriptPath(home: string, runId: string, role: string, generation: number): string {
  return join(transcriptsDir(home, runId), transcriptFileName(role, generation));
}

/** Items a cache entry holds are shared by every later step of the transcript, so nothing may change them. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function parseLine(path: string, line: string, index: number): TranscriptItem {
  try {
    return JSON.parse(line) as TranscriptItem;
  } catch {
    throw ApplicationFailure.nonRetryable(`transcript ${path} line ${index + 1} is not valid JSON`, 'TranscriptCorrupt');
  }
}

/** The first `length` items, parsing only the lines not parsed before. */
function committedPrefix(path: string, entry: CachedTranscript, length: number): TranscriptItem[] {
  const { lines } = entry.t;
  if (lines.length < length) {
    throw ApplicationFailure.nonRetryable(
      `transcript ${path} has ${lines.length} lines but the workflow committed ${length}; it was truncated or deleted outside Infty`,
      'TranscriptCorrupt',
    );
  }
  const cached = entry.files.length > 0;
  for (let i = entry.items.length; i < length; i++) {
    const item = parseLine(path, lines[i]!, i);
    entry.items.push(cached ? deepFreeze(item) : item);
  }
  return entry.items.slice(0, length);
}

/** The transcript read from its file(s); `files` set only when they are recorded for the cache. */
async function readEntry(path: string, files?: ReadFile[]): Promise<CachedTranscript> {
  const t = await readTranscriptLines(path, files);
  const own = files?.[0]?.id;
  return { files: files ?? [], t, items: [], size: own?.size ?? 0n, written: false, bytes: files ? textBytes(t.lines) : 0 };
}

/**
 * Under the fence lock: the transcript as this process last left it when its files are still exactly
 * that (one stat each), else as read now. The entry leaves the cache until `keep` puts it back.
 */
async function current(path: string): Promise<CachedTranscript> {
  const cache = transcriptCache();
  if (cache.maxBytes === 0) return readEntry(path);
  const cached = cache.take(path);
  if (cached && (await unchanged(cached.files))) {
    cache.hits++;
    return cached;
  }
  cache.misses++;
  return readEntry(path, []);
}

async function unchanged(files: ReadFile[]): Promise<boolean> {
  if (files.length === 0) return false;
  for (const f of files) if (!sameFile(await fileId(f.path), f.id)) return false;
  return true;
}

/**
 * Still under the lock, after this process's write (or none): stats the file and returns its size. The
 * entry goes back to the cache only if the file is exactly what it describes — the bytes it read plus
 * what was written since, or, with no write, the very file it read.
 */
async function keep(path: string, entry: CachedTranscript): Promise<number> {
  const now = await fileId(path);
  const own = entry.files[0];
  const known = own?.id !== undefined && entry.files.slice(1).every((f) => f.id !== undefined);
  if (known && now.size === entry.size && (entry.written || sameFile(now, own.id))) {
    own.id = now;
    entry.written = false;
    transcriptCache().put(path, entry);
  }
  return Number(now.size);
}

const toLines = (items: TranscriptItem[]): string => items.map((i) => `${JSON.stringify(i)}\n`).join('');

/** Cuts the entry to its first `length` lines. */
function cut(entry: CachedTranscript, length: number): void {
  entry.bytes -= textBytes(entry.t.lines.slice(length));
  entry.t.lines.length = length;
  if (entry.items.length > length) entry.items.length = length;
}

/** Rewrites the file to its first `length` lines plus `items` (atomically: a new file replaces it). */
async function rewrite(path: string, entry: CachedTranscript, length: number, items: TranscriptItem[]): Promise<void> {
  const text = fileText(entry.t, length) + toLines(items);
  await writeFileDurable(path, text);
  // The file is now exactly what this process wrote, whatever the read before could vouch for.
  const own = entry.files[0];
  if (own) own.id ??= ABSENT;
  cut(entry, length);
  added(entry, items, Buffer.byteLength(text, 'utf8'));
}

async function append(path: string, entry: CachedTranscript, items: TranscriptItem[]): Promise<void> {
  const text = toLines(items);
  await appendDurable(path, text);
  added(entry, items, entry.size + BigInt(Buffer.byteLength(text, 'utf8')));
}

/** Records lines this process wrote; their items are parsed from the lines when committed, like any read. */
function added(entry: CachedTranscript, items: TranscriptItem[], size: number | bigint): void {
  const lines = items.map((i) => JSON.stringify(i));
  entry.t.lines.push(...lines);
  entry.bytes += textBytes(lines);
  entry.size = BigInt(size);
  entry.written = true;
}

/** Rewrites the file to exactly its first `committedLength` lines + `items` when it holds more, else appends `items`. */
async function truncateAndAppend(path: string, entry: CachedTranscript, committedLength: number, items: TranscriptItem[]): Promise<void> {
  if (entry.t.lines.length > committedLength) await rewrite(path, entry, committedLength, items);
  else if (items.length > 0) await append(path, entry, items);
}

/** The first `length` items of a transcript (lines after them, e.g. a torn write, are ignored). Read from the file: it takes no lock. */
export async function readTranscript(path: string, length?: number): Promise<TranscriptItem[]> {
  const entry = await readEntry(path);
  return committedPrefix(path, entry, length ?? entry.t.lines.length);
}

/** Truncates the transcript to `committedLength` lines, then appends `items`. Returns the whole conversation. */
export async function commitItems(path: string, committedLength: number, items: TranscriptItem[], token: number): Promise<TranscriptItem[]> {
  await mkdir(dirname(path), { recursive: true });
  return withFence(path, token, async () => {
    const entry = await current(path);
    const kept = committedPrefix(path, entry, committedLength);
    await truncateAndAppend(path, entry, committedLength, items);
    if (entry.files.length > 0) await keep(path, entry);
    return [...kept, ...items];
  });
}

/** A step already written after the committed prefix: its output items and its end record. */
export interface WrittenStep {
  outputs: TranscriptItem[];
  end: StepEnd;
  /** Transcript length after the step (its step_end line included). */
  length: number;
}

/**
 * The step after `committedLength` if a previous attempt wrote it whole: the same new items, then
 * outputs, then a step_end with the same input hash. A torn or different tail is not a step.
 */
function writtenStep(lines: string[], committedLength: number, newItems: TranscriptItem[], inputSha256: string): WrittenStep | undefined {
  const tail = lines.slice(committedLength);
  for (let i = 0; i < newItems.length; i++) if (tail[i] !== JSON.stringify(newItems[i])) return undefined;
  const outputs: TranscriptItem[] = [];
  for (let i = newItems.length; i < tail.length; i++) {
    let item: TranscriptItem;
    try {
      item = JSON.parse(tail[i]!) as TranscriptItem;
    } catch {
      return undefined;
    }
    if (item.type === 'step_end') {
      return item.input_sha256 === inputSha256 ? { outputs, end: item, length: committedLength + i + 1 } : undefined;
    }
    outputs.push(item);
  }
  return undefined;
}

/**
 * Starts a model step: returns the conversation to send, or the step a previous attempt already
 * completed (the transcript is then cut just after it).
 */
export async function beginStep(
  path: string,
  committedLength: number,
  newItems: TranscriptItem[],
  inputSha256: string,
  token: number,
): Promise<{ history: TranscriptItem[]; bytes: number; written?: WrittenStep }> {
  await mkdir(dirname(path), { recursive: true });
  return withFence(path, token, async () => {
    const entry = await current(path);
    const { lines } = entry.t;
    const kept = committedPrefix(path, entry, committedLength);
    const written = writtenStep(lines, committedLength, newItems, inputSha256);
    if (written) {
      if (lines.length > written.length) await rewrite(path, entry, written.length, []);
      return { history: [...kept, ...newItems], bytes: await keep(path, entry), written };
    }
    await truncateAndAppend(path, entry, committedLength, newItems);
    return { history: [...kept, ...newItems], bytes: await keep(path, entry) };
  });
}

/**
 * Appends a step's outputs and its end record in one fsynced write; returns the new length.
 * `step` is what beginStep left: the file must still be exactly that (checked by size).
 */
export async function endStep(path: string, step: { lines: number; bytes: number }, outputs: TranscriptItem[], end: StepEnd, token: number): Promise<number> {
  return withFence(path, token, async () => {
    const cached = transcriptCache().take(path);
    const before = await stat(path, { bigint: true });
    const bytes = Number(before.size);
    if (bytes !== step.bytes) {
      throw ApplicationFailure.retryable(`transcript ${path} changed during the model step (${bytes} bytes, expected ${step.bytes})`, 'TranscriptRace');
    }
    const items = [...outputs, end];
    // The prefix sources (a fork's) are checked when the entry is next used.
    if (cached && sameFile(cached.files[0]?.id, before) && cached.t.lines.length === step.lines) {
      await append(path, cached, items);
      await keep(path, cached);
    } else {
      await appendDurable(path, toLines(items));
    }
    return step.lines + outputs.length + 1;
  });
}

/** Writes a whole new transcript generation (compaction) atomically; the run's older generations leave the cache. */
export async function writeTranscript(path: string, items: TranscriptItem[], token: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await withFence(path, token, async () => {
    const cache = transcriptCache();
    cache.forget((p) => dirname(p) === dirname(path));
    const entry: CachedTranscript = { files: [{ path, id: ABSENT }], t: { lines: [] }, items: [], size: 0n, written: false, bytes: 0 };
    await rewrite(path, entry, 0, items);
    if (cache.maxBytes > 0) await keep(path, entry);
  });
}
