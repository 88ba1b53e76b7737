/**
 * Turn snapshot manifests (docs/architecture.md decision 13), shared by worker and CLI:
 * INFTY_HOME/snapshots/<run>/turn-<K>.json is either full (`files`: every file of the run
 * directory) or a delta (`parent`: the turn it was taken against, `changed` and `removed`). A delta
 * costs what the turn changed; a full manifest is written when the chain since the last one gets
 * long or large, so reading one stays bounded. Every reader goes through `resolveManifest`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolePositions } from '../protocol/activities';
import type { BaseFile } from './project/base';

export type SnapshotFile = BaseFile;

/** A turn's files, resolved (or a full manifest as stored, also the format of runs from before deltas). */
export interface SnapshotManifest {
  runId: string;
  turn: number;
  files: SnapshotFile[];
  roles: RolePositions;
}

export interface DeltaManifest {
  runId: string;
  turn: number;
  /** The turn whose manifest this one changes. */
  parent: number;
  /** Deltas since the last full manifest, this one included. */
  depth: number;
  /** Entries (changed + removed) of those deltas. */
  chainEntries: number;
  /** Files added or different from the parent's (whole records). */
  changed: SnapshotFile[];
  /** Paths of the parent's that are gone. */
  removed: string[];
  roles: RolePositions;
}

export type StoredManifest = SnapshotManifest | DeltaManifest;

/** A resolved manifest with its files by path and the chain it came from (what the next delta builds on). */
export interface ResolvedSnapshot {
  runId: string;
  turn: number;
  files: Map<string, SnapshotFile>;
  roles: RolePositions;
  depth: number;
  chainEntries: number;
  /** Bytes of its regular files. */
  bytes: number;
}

/** A chain longer than this, or holding more entries than this share of the files, ends in a full manifest. */
export const MAX_DELTA_DEPTH = 16;
export const MAX_CHAIN_SHARE = 0.25;

export function manifestPath(home: string, runId: string, turn: number): string {
  return join(home, 'snapshots', runId, `turn-${turn}.json`);
}

export function isDelta(m: StoredManifest): m is DeltaManifest {
  return (m as DeltaManifest).parent !== undefined;
}

/** Whether the next manifest after `previous` (with `entries` changes, `files` files in all) is written full. */
export function nextIsFull(previous: Pick<ResolvedSnapshot, 'depth' | 'chainEntries'>, entries: number, files: number): boolean {
  return previous.depth + 1 > MAX_DELTA_DEPTH || previous.chainEntries + entries > Math.max(64, files * MAX_CHAIN_SHARE);
}

export async function readStoredManifest(home: string, runId: string, turn: number): Promise<StoredManifest | undefined> {
  try {
    return JSON.parse(await readFile(manifestPath(home, runId, turn), 'utf8')) as StoredManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The latest resolved manifest of each run this process wrote, by run (a bounded LRU), with the
 * stamp of its file: the next snapshot of the run builds on it without reading its chain again,
 * as long as the file is still the one written (another process may have replaced it).
 */
export interface Cached {
  snapshot: ResolvedSnapshot;
  stamp: string;
}
const latest = new Map<string, Cached>();
const MAX_CACHED_FILES = 400_000;

function cacheKey(home: string, runId: string): string {
  return `${home}\0${runId}`;
}

export async function manifestStamp(home: string, runId: string, turn: number): Promise<string | undefined> {
  const st = await stat(manifestPath(home, runId, turn)).catch(() => undefined);
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
}

/** The run's cached latest snapshot if it is turn `turn` and its file unchanged; the caller takes it over (it leaves the cache). */
export async function takeCachedSnapshot(home: string, runId: string, turn: number): Promise<Cached | undefined> {
  const key = cacheKey(home, runId);
  const hit = latest.get(key);
  if (!hit || hit.snapshot.turn !== turn) return undefined;
  latest.delete(key);
  return hit.stamp === (await manifestStamp(home, runId, turn)) ? hit : undefined;
}

/** Keeps `snapshot`, just written, as its run's latest (handed over: not copied); returns its file's stamp. */
export async function rememberSnapshot(home: string, snapshot: ResolvedSnapshot): Promise<string | undefined> {
  const stamp = await manifestStamp(home, snapshot.runId, snapshot.turn);
  if (!stamp) return undefined;
  const key = cacheKey(home, snapshot.runId);
  latest.delete(key);
  latest.set(key, { snapshot, stamp });
  let total = 0;
  for (const c of latest.values()) total += c.snapshot.files.size;
  for (const [k, c] of latest) {
    if (total <= MAX_CACHED_FILES || k === key) break;
    latest.delete(k);
    total -= c.snapshot.files.size;
  }
  return stamp;
}

/** Test hook: forget every cached snapshot, as a new process would start. */
export function clearSnapshotCache(): void {
  latest.clear();
}

/** A delta whose parent is missing or whose chain does not end: the turn's files cannot be known. */
export class BrokenSnapshotChain extends Error {}

/** The files of `runId`'s turn `turn`, resolving a delta through its parents; undefined when that turn has no manifest. */
export async function resolveSnapshot(home: string, runId: string, turn: number): Promise<ResolvedSnapshot | undefined> {
  const chain: DeltaManifest[] = [];
  let at: StoredManifest | undefined = await readStoredManifest(home, runId, turn);
  if (!at) return undefined;
  while (isDelta(at)) {
    chain.push(at);
    if (chain.length > MAX_DELTA_DEPTH * 4) throw new BrokenSnapshotChain(`snapshot of turn ${turn} of run ${runId}: its chain of deltas does not end`);
    const parent: StoredManifest | undefined = await readStoredManifest(home, runId, at.parent);
    if (!parent) throw new BrokenSnapshotChain(`snapshot of turn ${at.turn} of run ${runId} names turn ${at.parent}, whose manifest is missing`);
    at = parent;
  }
  const files = new Map(at.files.map((f) => [f.path, f]));
  let chainEntries = 0;
  for (const d of chain.reverse()) {
    for (const p of d.removed) files.delete(p);
    for (const f of d.changed) files.set(f.path, f);
    chainEntries += d.changed.length + d.removed.length;
  }
  const top = chain.at(-1);
  let bytes = 0;
  for (const f of files.values()) if (f.link === undefined) bytes += f.size;
  return { runId, turn, files, roles: top ? top.roles : at.roles, depth: chain.length, chainEntries, bytes };
}

/** A turn's manifest with its files listed (sorted by path), for forks, restores and `infty diff --at-turn`. */
export async function readSnapshot(home: string, runId: string, turn: number): Promise<SnapshotManifest | undefined> {
  const r = await resolveSnapshot(home, runId, turn);
  if (!r) return undefined;
  return { runId, turn, files: [...r.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), roles: r.roles };
}
