/**
 * Copies a project's files into the run directory through the content-addressed store
 * (docs/architecture.md decision 14): each file is read once, hashed, stored as an object unless
 * the store has it already (ten runs of one repository store its files once), and written to the
 * copy from the same bytes. `dest` null: the files are already in place (a fresh clone), they are
 * only stored and recorded.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BaseFile } from '../../host/project/base';
import { failpoint } from '../durable/failpoints';
import { objectPath, sha256Hex, store, storeBuffer } from '../snapshots';
import type { SourceEntry } from './listing';

/** Files up to this size are read into memory once; larger ones are copied into the store, then out of it. */
const IN_MEMORY_MAX = 8 * 1024 * 1024;
/** File operations in flight at once (a tree of small files is bound by latency, not bandwidth). */
const CONCURRENCY = 16;
/** The failpoint `project.midCopy` fires after this many files (a worker killed while the copy is made). */
const MID_COPY_FILES = 200;

export interface CopyResult {
  files: BaseFile[];
  newBytes: number;
  /** Files that could not be read, with why (the copy is abandoned when there are any). */
  unreadable: string[];
}

async function copyOne(home: string, src: string, dest: string | null, e: SourceEntry, madeDirs: Set<string>): Promise<{ file: BaseFile; added: number }> {
  if (dest !== null) {
    const dir = dirname(dest);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
  }
  if (e.kind === 'link') {
    if (dest !== null) await symlink(e.link!, dest);
    const at = dest ?? src;
    return { file: { path: e.path, sha256: sha256Hex(e.link!), size: Buffer.byteLength(e.link!), mode: 0o777, mtimeMs: (await lstat(at)).mtimeMs, link: e.link! }, added: 0 };
  }
  let sha256: string;
  let added: boolean;
  if (e.size <= IN_MEMORY_MAX) {
    const data = await readFile(src);
    ({ sha256, added } = await storeBuffer(home, data));
    if (dest !== null) await writeExact(dest, data, e.mode);
  } else {
    ({ sha256, added } = await store(home, src));
    if (dest !== null) {
      await copyFile(objectPath(home, sha256), dest, constants.COPYFILE_FICLONE);
      await chmod(dest, e.mode);
    }
  }
  const st = await lstat(dest ?? src);
  return { file: { path: e.path, sha256, size: st.size, mode: e.mode, mtimeMs: st.mtimeMs }, added: added ? st.size : 0 };
}

async function writeExact(dest: string, data: Buffer, mode: number): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(dest, data, { mode, flag: 'wx' });
  await chmod(dest, mode); // the umask may have taken bits the source had
}

export async function copyTree(home: string, srcRoot: string, dest: string | null, entries: SourceEntry[], tick: () => void): Promise<CopyResult> {
  const files: BaseFile[] = new Array(entries.length);
  const unreadable: string[] = [];
  const madeDirs = new Set<string>();
  let newBytes = 0;
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= entries.length || unreadable.length >= 20) return;
      const e = entries[i]!;
      try {
        const r = await copyOne(home, join(srcRoot, e.path), dest === null ? null : join(dest, e.path), e, madeDirs);
        files[i] = r.file;
        newBytes += r.added;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') unreadable.push(`${e.path} (permission denied)`);
        else if (code === 'ENOENT') unreadable.push(`${e.path} (removed while it was being copied)`);
        else if (code === 'EISDIR') unreadable.push(`${e.path} (became a directory while it was being copied)`);
        else throw err;
      }
      done += 1;
      if (done % 64 === 0) tick();
      if (done === MID_COPY_FILES) failpoint('project.midCopy');
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { files: files.filter(Boolean), newBytes, unreadable };
}
