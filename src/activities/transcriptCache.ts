/**
 * The transcripts this worker process last wrote or read, kept so that a model step does not read and
 * parse the whole file again (docs/architecture.md decision 10, "Transcript cache"). An entry is used
 * only while every file it was built from is exactly as recorded — size, mtime in ns, inode, device —
 * checked under the fence lock; any difference reads the file. Bounded by an LRU over the transcript
 * text the entries hold.
 */

import { stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import type { TranscriptItem } from '../protocol/items';
import type { TranscriptLines } from './transcriptPrefix';

/** What identifies one state of a file: any write by anyone changes at least one of these. */
export interface FileId {
  size: bigint;
  mtimeNs: bigint;
  ino: bigint;
  dev: bigint;
}

/** A file that does not exist (yet): zero bytes, equal to no real file. */
export const ABSENT: FileId = { size: 0n, mtimeNs: -1n, ino: -1n, dev: -1n };

/** The file's identity, or ABSENT when there is no file. */
export async function fileId(path: string): Promise<FileId> {
  try {
    const s = await stat(path, { bigint: true });
    return { size: s.size, mtimeNs: s.mtimeNs, ino: s.ino, dev: s.dev };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ABSENT;
    throw err;
  }
}

export function sameFile(a: FileId | undefined, b: FileId | undefined): boolean {
  return !!a && !!b && a !== ABSENT && b !== ABSENT && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.dev === b.dev;
}

/** A file a transcript was read from, as stat'ed just before it was read; `id` undefined: what was read may not be what the stat saw. */
export interface ReadFile {
  path: string;
  id: FileId | undefined;
}

export interface CachedTranscript {
  /** The transcript's own file first, then the files its prefix line resolved through (a fork's, docs/architecture.md decision 13). */
  files: ReadFile[];
  t: TranscriptLines;
  /** The parsed items of the first `items.length` lines (parsed when first committed, never from what was written). */
  items: TranscriptItem[];
  /** Bytes the own file holds according to this entry (what the next stat must show after this process's write). */
  size: bigint;
  /** Whether this process wrote the own file since `files[0].id` was taken. */
  written: boolean;
  /** textBytes(t.lines), kept up to date as lines are added and cut. */
  bytes: number;
}

/** The default bound: the transcript text all entries hold together. */
export const DEFAULT_TRANSCRIPT_CACHE_BYTES = 64 * 1024 * 1024;

/** The UTF-8 bytes of the lines as a file holds them (one newline each): what an entry is charged. */
export function textBytes(lines: string[]): number {
  let n = 0;
  for (const line of lines) n += Buffer.byteLength(line, 'utf8') + 1;
  return n;
}

export class TranscriptCache {
  readonly #lru: LRUCache<string, CachedTranscript> | undefined;
  /** Steps that used an entry, and steps that read their file although the cache is on. */
  hits = 0;
  misses = 0;

  /** `maxBytes` 0 disables the cache (every step reads its file). */
  constructor(readonly maxBytes: number) {
    this.#lru = maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (e) => Math.max(1, e.bytes) }) : undefined;
  }

  /** The bytes of transcript text held now. */
  get bytes(): number {
    return this.#lru?.calculatedSize ?? 0;
  }

  get entries(): number {
    return this.#lru?.size ?? 0;
  }

  has(path: string): boolean {
    return this.#lru?.has(path) ?? false;
  }

  /** Removes and returns the entry of `path`: the caller changes it and puts it back once the file is written. */
  take(path: string): CachedTranscript | undefined {
    const entry = this.#lru?.get(path);
    if (entry) this.#lru?.delete(path);
    return entry;
  }

  /** Stores the entry (most recently used), evicting the least recently used past the bound; an entry larger than the bound is not kept. */
  put(path: string, entry: CachedTranscript): void {
    this.#lru?.set(path, entry);
  }

  /** Drops every entry whose path `drop` accepts. */
  forget(drop: (path: string) => boolean): void {
    if (!this.#lru) return;
    for (const path of [...this.#lru.keys()]) if (drop(path)) this.#lru.delete(path);
  }
}

let cache = new TranscriptCache(DEFAULT_TRANSCRIPT_CACHE_BYTES);

export function transcriptCache(): TranscriptCache {
  return cache;
}

/** Replaces this process's cache (tests and benchmarks: another bound, or 0 to disable it). */
export function resetTranscriptCache(maxBytes = DEFAULT_TRANSCRIPT_CACHE_BYTES): TranscriptCache {
  cache = new TranscriptCache(maxBytes);
  return cache;
}
