/**
 * Turn snapshots (docs/architecture.md decision 13): after each Solver turn the run directory's files
 * go to a content-addressed store, INFTY_HOME/objects/<2 hex>/<sha256> (an object is written once,
 * never changed), and a manifest INFTY_HOME/snapshots/<run>/turn-<K>.json names them (a delta
 * against the previous one: src/host/snapshotManifest.ts). Files whose size and mtime match the
 * previous manifest are not read again.
 */

import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { readBaseManifest } from '../host/project/base';
import { objectPathIn } from '../host/project/objects';
import {
  manifestPath,
  nextIsFull,
  type ResolvedSnapshot,
  readSnapshot,
  rememberSnapshot,
  resolveSnapshot,
  type SnapshotFile,
  type SnapshotManifest,
  type StoredManifest,
  takeCachedSnapshot,
} from '../host/snapshotManifest';
import type { SnapshotTurnInput, SnapshotTurnResult } from '../protocol/activities';
import { writeFileDurable } from './durable/files';
import { type Changes, COOKIE_PREFIX, type RunWatcher, startWatcher, watcherOf, watchLimits } from './snapshotWatch';
import { isInside } from './tools/paths';

export type { SnapshotFile, SnapshotManifest };

/** run.json belongs to the run, not to its workspace: a fork writes its own. */
const SKIPPED = new Set(['run.json']);

export const objectPath = objectPathIn;
export { manifestPath };

/** A turn's files, resolved through its chain of deltas (docs/architecture.md decision 13). */
export const readManifest = readSnapshot;

interface Entry {
  full: string;
  st: Stats;
}

/**
 * Regular files and symbolic links under `dir` with their lstat (special files are not part of a
 * snapshot); a directory's entries are stat'ed together, since one at a time the walk waits on
 * each call's round trip through the thread pool.
 */
async function* walk(dir: string): AsyncGenerator<Entry> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  const leaves = entries.filter((e) => !e.isDirectory() && (e.isFile() || e.isSymbolicLink())).map((e) => join(dir, e.name));
  const stats = await Promise.all(leaves.map((full) => lstat(full).catch(() => undefined)));
  const statOf = new Map(leaves.map((full, i) => [full, stats[i]]));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else {
      const st = statOf.get(full);
      if (st && (st.isFile() || st.isSymbolicLink())) yield { full, st }; // gone or replaced mid-walk: not a file now
    }
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Puts bytes already in memory into the store (what is hashed is what is written); returns whether the object was new. */
export async function storeBuffer(home: string, data: Uint8Array, sha256 = sha256Hex(data)): Promise<{ sha256: string; added: boolean }> {
  const dest = objectPath(home, sha256);
  if (await exists(dest)) return { sha256, added: false };
  const tmp = join(home, 'objects', 'tmp', `${randomBytes(8).toString('hex')}`);
  await mkdir(dirname(tmp), { recursive: true });
  try {
    await writeFile(tmp, data, { mode: 0o444 });
    await mkdir(dirname(dest), { recursive: true });
    await rename(tmp, dest);
    return { sha256, added: true };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Copies `file` into the store (a copy-on-write clone where the file system has them); returns its hash and whether it was new. */
export async function store(home: string, file: string): Promise<{ sha256: string; added: boolean }> {
  const tmp = join(home, 'objects', 'tmp', `${randomBytes(8).toString('hex')}`);
  await mkdir(dirname(tmp), { recursive: true });
  await copyFile(file, tmp, constants.COPYFILE_FICLONE);
  try {
    const sha256 = await sha256Of(tmp); // the copy's hash: a file changed mid-copy cannot mislabel an object
    const dest = objectPath(home, sha256);
    if (await exists(dest)) return { sha256, added: false };
    await mkdir(dirname(dest), { recursive: true });
    await chmod(tmp, 0o444);
    await rename(tmp, dest);
    return { sha256, added: true };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

interface Previous {
  files: Map<string, SnapshotFile>;
  /** The previous manifest (absent: the base, or nothing), which a delta would name as its parent. */
  resolved?: ResolvedSnapshot;
  /** Its file's stamp, when this process wrote it (what a watcher's baseline names). */
  stamp?: string;
  /** Whether its objects are known to be in the store (this process wrote the snapshot). */
  objectsKnown: boolean;
}

/**
 * The latest manifest of the run before `turn` (the size/mtime cache, and the parent of a delta):
 * the one this process keeps in memory when it is still on disk as written, or read; before the
 * first turn of a project run, its base (the copy's files, whose mtimes were recorded when they
 * were written). A manifest that cannot be resolved is passed over: the snapshot is then full.
 */
async function previousSnapshot(home: string, runId: string, turn: number): Promise<Previous> {
  for (let t = turn - 1; t >= 1 && t >= turn - 50; t--) {
    const cached = await takeCachedSnapshot(home, runId, t);
    if (cached) return { files: cached.snapshot.files, resolved: cached.snapshot, stamp: cached.stamp, objectsKnown: true };
    const read = await resolveSnapshot(home, runId, t).catch(() => undefined);
    if (read) return { files: read.files, resolved: read, objectsKnown: false };
  }
  const base = await readBaseManifest(home, runId);
  const files = new Map<string, SnapshotFile>();
  for (const f of base?.files ?? []) files.set(`${base!.projectDir}/${f.path}`, { ...f, path: `${base!.projectDir}/${f.path}` });
  return { files, objectsKnown: false };
}

function sameFile(a: SnapshotFile, b: SnapshotFile): boolean {
  return a.sha256 === b.sha256 && a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.link === b.link;
}

interface Change {
  changed: SnapshotFile[];
  removed: string[];
}

/** Writes turn `turn`'s manifest: a delta against `parent` while the chain stays short and small, else full. Returns its file's stamp. */
async function writeManifest(
  home: string,
  input: SnapshotTurnInput,
  files: Map<string, SnapshotFile>,
  bytes: number,
  parent: ResolvedSnapshot | undefined,
  { changed, removed }: Change,
): Promise<string | undefined> {
  const entries = changed.length + removed.length;
  const full = !parent || nextIsFull(parent, entries, files.size);
  const depth = full ? 0 : parent.depth + 1;
  const chainEntries = full ? 0 : parent.chainEntries + entries;
  const stored: StoredManifest = full
    ? { runId: input.runId, turn: input.turn, files: [...files.values()], roles: input.roles }
    : { runId: input.runId, turn: input.turn, parent: parent.turn, depth, chainEntries, changed, removed, roles: input.roles };
  const dest = manifestPath(home, input.runId, input.turn);
  await mkdir(dirname(dest), { recursive: true });
  await writeFileDurable(dest, `${JSON.stringify(stored)}\n`);
  return rememberSnapshot(home, { runId: input.runId, turn: input.turn, files, roles: input.roles, depth, chainEntries, bytes });
}

function isCookie(path: string): boolean {
  return path.startsWith(COOKIE_PREFIX) && !path.includes('/');
}

/** Reads one file or link into a snapshot record: its hash from `known` when size and mtime match and `force` is not set. */
class Recorder {
  newBytes = 0;
  /** A file with more links than known: its other names may have changed without an event. */
  newLinks = false;
  constructor(
    private readonly home: string,
    private readonly previous: Previous,
    private readonly multiLinked?: Set<string>,
  ) {}

  async record(path: string, full: string, st: Stats, force: boolean): Promise<SnapshotFile> {
    if (st.isSymbolicLink()) {
      const link = await readlink(full);
      return { path, sha256: sha256Hex(link), size: Buffer.byteLength(link), mode: 0o777, mtimeMs: st.mtimeMs, link };
    }
    if (this.multiLinked) {
      if (st.nlink > 1 && !this.multiLinked.has(path)) {
        this.multiLinked.add(path);
        this.newLinks = true;
      } else if (st.nlink === 1) this.multiLinked.delete(path);
    }
    const known = this.previous.files.get(path);
    if (
      !force &&
      known &&
      known.link === undefined &&
      known.size === st.size &&
      known.mtimeMs === st.mtimeMs &&
      (this.previous.objectsKnown || (await exists(objectPath(this.home, known.sha256))))
    ) {
      return { path, sha256: known.sha256, size: st.size, mode: st.mode & 0o777, mtimeMs: st.mtimeMs };
    }
    const stored = await store(this.home, full);
    if (stored.added) this.newBytes += st.size;
    return { path, sha256: stored.sha256, size: st.size, mode: st.mode & 0o777, mtimeMs: st.mtimeMs };
  }
}

/** Directories under which a snapshot holds files (for the watch limit before a watcher is started). */
function directoriesOf(files: Map<string, SnapshotFile>): number {
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    let at = path.lastIndexOf('/');
    while (at > 0 && !dirs.has(path.slice(0, at))) {
      dirs.add(path.slice(0, at));
      at = path.lastIndexOf('/', at - 1);
    }
  }
  return dirs.size + 1;
}

/** The whole tree, read file by file (files whose size and mtime match `previous` are not read again). */
async function walkTree(home: string, input: SnapshotTurnInput, previous: Previous, heartbeat: () => void, watcher?: RunWatcher) {
  const recorder = new Recorder(home, previous, watcher?.multiLinked);
  const files = new Map<string, SnapshotFile>();
  let bytes = 0;
  for await (const { full, st } of walk(input.runDir)) {
    const path = relative(input.runDir, full).split(sep).join('/');
    if (SKIPPED.has(path) || isCookie(path)) continue;
    heartbeat();
    const f = await recorder.record(path, full, st, false);
    files.set(path, f);
    if (f.link === undefined) bytes += f.size;
  }
  const change: Change = { changed: [], removed: [] };
  const parent = previous.resolved;
  if (parent) {
    for (const f of files.values()) {
      const was = parent.files.get(f.path);
      if (!was || !sameFile(was, f)) change.changed.push(f);
    }
    for (const path of parent.files.keys()) if (!files.has(path)) change.removed.push(path);
  }
  return { files, bytes, newBytes: recorder.newBytes, change };
}

/**
 * Only the paths the watcher saw change (and files with other links): each re-read from the tree
 * as it is now; a path that is a directory is walked whole, and whatever the previous manifest held
 * beneath a changed directory (moved, deleted, replaced) is dropped unless it is found again.
 */
async function applyChanges(
  home: string,
  input: SnapshotTurnInput,
  previous: Previous & { resolved: ResolvedSnapshot },
  changes: Changes,
  watcher: RunWatcher,
  heartbeat: () => void,
) {
  const recorder = new Recorder(home, previous, watcher.multiLinked);
  for (const path of watcher.multiLinked) if (!changes.has(path)) changes.set(path, { content: true });
  const found = new Map<string, SnapshotFile | null>();
  const dirs = new Set<string>();
  for (const [path, { content }] of changes) {
    if (SKIPPED.has(path) || isCookie(path) || found.has(path)) continue;
    heartbeat();
    const full = join(input.runDir, ...path.split('/'));
    const st = await lstat(full).catch(() => undefined);
    if (st?.isDirectory()) {
      dirs.add(path);
      found.set(path, null); // it may have been a file
      for await (const e of walk(full)) {
        const p = relative(input.runDir, e.full).split(sep).join('/');
        if (!found.has(p)) found.set(p, await recorder.record(p, e.full, e.st, changes.get(p)?.content ?? !previous.files.has(p)));
      }
    } else if (st && (st.isFile() || st.isSymbolicLink())) {
      found.set(path, await recorder.record(path, full, st, content));
      if (!previous.files.has(path)) dirs.add(path); // it may have been a directory
    } else {
      found.set(path, null);
      if (!previous.files.has(path)) dirs.add(path); // it may have been a directory
    }
  }
  // A path found through a symbolic link (an ancestor that is no longer a directory) is not in the tree.
  const notDirectory = (a: string) => {
    const f = found.has(a) ? found.get(a) : previous.files.get(a);
    return f !== null && f !== undefined;
  };
  for (const [path, f] of found) {
    if (f === null) continue;
    for (let at = path.lastIndexOf('/'); at > 0; at = path.lastIndexOf('/', at - 1)) {
      if (notDirectory(path.slice(0, at))) {
        found.set(path, null);
        break;
      }
    }
  }
  if (dirs.size > 0) {
    for (const path of previous.files.keys()) {
      if (found.has(path)) continue;
      for (let at = path.lastIndexOf('/'); at > 0; at = path.lastIndexOf('/', at - 1)) {
        if (dirs.has(path.slice(0, at))) {
          found.set(path, null);
          break;
        }
      }
    }
  }
  if (recorder.newLinks) return undefined;
  // The previous snapshot's map becomes this one's (this process owns it: it left the cache).
  const files = previous.files;
  let bytes = previous.resolved.bytes;
  const change: Change = { changed: [], removed: [] };
  for (const [path, f] of found) {
    const was = files.get(path);
    if (was && was.link === undefined) bytes -= was.size;
    if (f === null) {
      if (was) {
        change.removed.push(path);
        files.delete(path);
      }
      continue;
    }
    if (f.link === undefined) bytes += f.size;
    if (!was || !sameFile(was, f)) {
      change.changed.push(f);
      files.set(path, f);
    }
  }
  return { files, bytes, newBytes: recorder.newBytes, change };
}

export async function snapshotTurn(input: SnapshotTurnInput, home: string, heartbeat: () => void = () => undefined): Promise<SnapshotTurnResult> {
  const previous = await previousSnapshot(home, input.runId, input.turn);
  const parent = previous.resolved;
  let watcher = watcherOf(home, input.runId, input.runDir);
  const changes =
    watcher && parent && previous.stamp && watcher.baseline?.turn === parent.turn && watcher.baseline.stamp === previous.stamp
      ? await watcher.take()
      : undefined;
  let result = watcher && parent && changes ? await applyChanges(home, input, { ...previous, resolved: parent }, changes, watcher, heartbeat) : undefined;
  const scan = result ? 'changes' : 'tree';
  if (!result) {
    if (watcher && changes) {
      // A new hard link: its other names are unknown, so the tree is walked; the watcher, whose changes were just taken, stays.
      watcher.multiLinked.clear();
    } else {
      watcher?.stop();
      // Started before the walk: whatever changes from here on, the next snapshot hears of.
      watcher = previous.files.size >= watchLimits().minFiles ? await startWatcher(home, input.runId, input.runDir, directoriesOf(previous.files)) : undefined;
    }
    result = await walkTree(home, input, previous, heartbeat, watcher);
  }
  const stamp = await writeManifest(home, input, result.files, result.bytes, parent, result.change);
  if (watcher && !watcher.failure && stamp) watcher.baseline = { turn: input.turn, stamp };
  else watcher?.stop();
  return { turn: input.turn, files: result.files.size, bytes: result.bytes, newBytes: result.newBytes, scan };
}

/**
 * Writes a snapshot's files into `runDir` (copies: the fork may change them, the store must not).
 * A symbolic link is recreated only when it points inside `runDir`.
 */
export async function restoreSnapshot(home: string, manifest: Pick<SnapshotManifest, 'files'>, runDir: string): Promise<void> {
  for (const f of manifest.files) {
    const dest = join(runDir, ...f.path.split('/'));
    if (relative(runDir, dest).startsWith('..')) throw ApplicationFailure.nonRetryable(`snapshot path ${f.path} leaves the run directory`, 'ForkSourceMissing');
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true }); // a retried restore may find its earlier, read-only copy
    if (f.link !== undefined) {
      if (!f.link.startsWith('/') && isInside(resolve(runDir), resolve(dirname(dest), f.link))) await symlink(f.link, dest);
      continue;
    }
    await copyFile(objectPath(home, f.sha256), dest, constants.COPYFILE_FICLONE).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT')
        throw ApplicationFailure.nonRetryable(`object ${f.sha256} of snapshot file ${f.path} is missing from ${join(home, 'objects')}`, 'ForkSourceMissing');
      throw err;
    });
    await chmod(dest, f.mode);
  }
}
