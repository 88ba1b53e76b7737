/**
 * Copies a project's files into the run directory through the content-addressed store
 * (docs/architecture.md decision 14): each file is read once, hashed, stored as an object unless
 * the store has it already (ten runs of one repository store its files once), and written to the
 * copy from the same bytes. `dest` null: the files are already in place (a fresh clone), they are
 * only stored and recorded.
 *
 * Small files, nearly all of a source tree, are handled with synchronous calls in slices of a few
 * milliseconds: a tree of many small files is bound by per-call latency, and each asynchronous
 * call costs a trip through libuv's four-thread pool (measured 2–3× slower). Between slices the
 * event loop runs, so heartbeats and other activities are not held up.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, constants, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, lstat, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BaseFile } from '../../host/project/base';
import { failpoint } from '../durable/failpoints';
import { objectPath, sha256Hex, store } from '../snapshots';
import type { SourceEntry } from './listing';

/** Files up to this size are read into memory once; larger ones are copied into the store, then out of it. */
const IN_MEMORY_MAX = 8 * 1024 * 1024;
/** Synchronous work between two turns of the event loop. */
const SLICE_MS = 20;
/** The failpoint `project.midCopy` fires after this many files (a worker killed while the copy is made). */
const MID_COPY_FILES = 200;

export interface CopyResult {
  files: BaseFile[];
  newBytes: number;
  /** Files that could not be read, with why (the copy is abandoned when there are any). */
  unreadable: string[];
}

/** Directories known to exist, so each is made once. */
class Dirs {
  private readonly made = new Set<string>();
  ensure(dir: string): void {
    if (this.made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.made.add(dir);
  }
}

const umask = process.umask();

function copySmall(home: string, src: string, dest: string | null, e: SourceEntry, dirs: Dirs, tmpDir: string): { file: BaseFile; added: number } {
  if (dest !== null) dirs.ensure(dirname(dest));
  if (e.kind === 'link') {
    if (dest !== null) symlinkSync(e.link!, dest);
    return {
      file: { path: e.path, sha256: sha256Hex(e.link!), size: Buffer.byteLength(e.link!), mode: 0o777, mtimeMs: lstatSync(dest ?? src).mtimeMs, link: e.link! },
      added: 0,
    };
  }
  const data = readFileSync(src);
  const sha256 = sha256Hex(data);
  const object = objectPath(home, sha256);
  let added = 0;
  if (!existsSync(object)) {
    // What is hashed is what is written: a file changing meanwhile cannot mislabel an object.
    const tmp = join(tmpDir, randomBytes(8).toString('hex'));
    writeFileSync(tmp, data, { mode: 0o444 });
    dirs.ensure(dirname(object));
    renameSync(tmp, object);
    added = data.length;
  }
  if (dest !== null) {
    writeFileSync(dest, data, { mode: e.mode, flag: 'wx' });
    if (e.mode & umask) chmodSync(dest, e.mode); // the umask took bits the source had
  }
  const st = lstatSync(dest ?? src);
  return { file: { path: e.path, sha256, size: data.length, mode: e.mode, mtimeMs: st.mtimeMs }, added };
}

async function copyLarge(home: string, src: string, dest: string | null, e: SourceEntry): Promise<{ file: BaseFile; added: number }> {
  const { sha256, added } = await store(home, src);
  if (dest !== null) {
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(objectPath(home, sha256), dest, constants.COPYFILE_FICLONE);
    await chmod(dest, e.mode);
  }
  const st = await lstat(dest ?? src);
  return { file: { path: e.path, sha256, size: st.size, mode: e.mode, mtimeMs: st.mtimeMs }, added: added ? st.size : 0 };
}

function unreadableReason(err: unknown, path: string): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `${path} (permission denied)`;
  if (code === 'ENOENT') return `${path} (removed while it was being copied)`;
  if (code === 'EISDIR') return `${path} (became a directory while it was being copied)`;
  return undefined;
}

export async function copyTree(home: string, srcRoot: string, dest: string | null, entries: SourceEntry[], tick: () => void): Promise<CopyResult> {
  const files: BaseFile[] = [];
  const unreadable: string[] = [];
  const dirs = new Dirs();
  const tmpDir = join(home, 'objects', 'tmp');
  dirs.ensure(tmpDir);
  let newBytes = 0;
  let sliceStart = Date.now();
  for (let i = 0; i < entries.length && unreadable.length < 20; i++) {
    const e = entries[i]!;
    const src = join(srcRoot, e.path);
    const out = dest === null ? null : join(dest, e.path);
    try {
      const r = e.kind === 'file' && e.size > IN_MEMORY_MAX ? await copyLarge(home, src, out, e) : copySmall(home, src, out, e, dirs, tmpDir);
      files.push(r.file);
      newBytes += r.added;
    } catch (err) {
      const reason = unreadableReason(err, e.path);
      if (reason === undefined) throw err;
      unreadable.push(reason);
    }
    if (i + 1 === MID_COPY_FILES) failpoint('project.midCopy');
    if (Date.now() - sliceStart >= SLICE_MS) {
      tick();
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
  }
  return { files, newBytes, unreadable };
}
