/**
 * Turn snapshots (docs/architecture.md decision 13): after each Solver turn the run directory's files
 * go to a content-addressed store, INFTY_HOME/objects/<2 hex>/<sha256> (an object is written once,
 * never changed), and a manifest INFTY_HOME/snapshots/<run>/turn-<K>.json names them. Files whose
 * size and mtime match the previous manifest are not read again.
 */

import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { type BaseFile, readBaseManifest } from '../host/project/base';
import { objectPathIn } from '../host/project/objects';
import type { RolePositions, SnapshotTurnInput, SnapshotTurnResult } from '../protocol/activities';
import { writeFileDurable } from './durable/files';
import { isInside } from './tools/paths';

export type SnapshotFile = BaseFile;

export interface SnapshotManifest {
  runId: string;
  turn: number;
  files: SnapshotFile[];
  roles: RolePositions;
}

/** run.json belongs to the run, not to its workspace: a fork writes its own. */
const SKIPPED = new Set(['run.json']);

export const objectPath = objectPathIn;

export function manifestPath(home: string, runId: string, turn: number): string {
  return join(home, 'snapshots', runId, `turn-${turn}.json`);
}

export async function readManifest(home: string, runId: string, turn: number): Promise<SnapshotManifest | undefined> {
  try {
    return JSON.parse(await readFile(manifestPath(home, runId, turn), 'utf8')) as SnapshotManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Regular files and symbolic links under `dir` (special files are not part of a snapshot). */
async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile() || e.isSymbolicLink()) yield full;
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

/**
 * The latest manifest of the run before `turn` (the size/mtime cache); before the first turn of a
 * project run, its base (the copy's files, whose mtimes were recorded when they were written).
 */
async function previousManifest(home: string, runId: string, turn: number): Promise<Pick<SnapshotManifest, 'files'> | undefined> {
  for (let t = turn - 1; t >= 1 && t >= turn - 50; t--) {
    const m = await readManifest(home, runId, t);
    if (m) return m;
  }
  const base = await readBaseManifest(home, runId);
  return base ? { files: base.files.map((f) => ({ ...f, path: `${base.projectDir}/${f.path}` })) } : undefined;
}

export async function snapshotTurn(input: SnapshotTurnInput, home: string, heartbeat: () => void = () => undefined): Promise<SnapshotTurnResult> {
  const previous = new Map((await previousManifest(home, input.runId, input.turn))?.files.map((f) => [f.path, f]) ?? []);
  const files: SnapshotFile[] = [];
  let bytes = 0;
  let newBytes = 0;
  for await (const full of walk(input.runDir)) {
    const path = relative(input.runDir, full).split(sep).join('/');
    if (SKIPPED.has(path)) continue;
    heartbeat();
    const st = await lstat(full);
    if (st.isSymbolicLink()) {
      const link = await readlink(full);
      files.push({ path, sha256: sha256Hex(link), size: Buffer.byteLength(link), mode: 0o777, mtimeMs: st.mtimeMs, link });
      continue;
    }
    const mode = st.mode & 0o777;
    const known = previous.get(path);
    let sha256: string;
    if (!known?.link && known && known.size === st.size && known.mtimeMs === st.mtimeMs && (await exists(objectPath(home, known.sha256)))) {
      sha256 = known.sha256;
    } else {
      const stored = await store(home, full);
      sha256 = stored.sha256;
      if (stored.added) newBytes += st.size;
    }
    files.push({ path, sha256, size: st.size, mode, mtimeMs: st.mtimeMs });
    bytes += st.size;
  }
  const manifest: SnapshotManifest = { runId: input.runId, turn: input.turn, files, roles: input.roles };
  const dest = manifestPath(home, input.runId, input.turn);
  await mkdir(dirname(dest), { recursive: true });
  await writeFileDurable(dest, `${JSON.stringify(manifest)}\n`);
  return { turn: input.turn, files: files.length, bytes, newBytes };
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
