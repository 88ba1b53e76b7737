/**
 * Which files a project copy takes (docs/behaviour.md §4.4): in a git work tree exactly the files
 * git lists (tracked, plus untracked ones that are not ignored), as they are on disk; elsewhere the
 * whole tree less the default ignore list.
 */
import { type Dirent, lstatSync } from 'node:fs';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { git, nulList } from '../../host/project/git';
import { isIgnoredDir, isIgnoredFile } from '../../host/project/ignore';
import { isInside } from '../tools/paths';

export interface SourceEntry {
  /** Relative to the project root, '/'-separated. */
  path: string;
  kind: 'file' | 'link';
  size: number;
  mode: number;
  /** A link's target, relative, inside the project. */
  link?: string;
}

export interface SourceListing {
  entries: SourceEntry[];
  bytes: number;
  /** Links pointing outside the project (left out). */
  skippedLinks: string[];
}

const toPosix = (p: string) => p.split(sep).join('/');

async function walkPlain(root: string, dir: string, out: string[], tick: () => void): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EACCES' || e.code === 'EPERM')
      throw Object.assign(new Error(`${relative(root, dir) || '.'}: permission denied`), { code: e.code, unreadable: relative(root, dir) });
    throw err;
  }
  for (const e of entries) {
    tick();
    // A repository's metadata, never project files: a .git directory, or a submodule's .git file
    // (it names a directory the copy does not have, and would break git in the copy).
    if (e.name === '.git') continue;
    if (e.isDirectory()) {
      if (!isIgnoredDir(e.name)) await walkPlain(root, join(dir, e.name), out, tick);
    } else if (!isIgnoredFile(e.name)) {
      out.push(toPosix(relative(root, join(dir, e.name))));
    }
  }
}

/** Paths git lists in the work tree at `root` (tracked and untracked-not-ignored); submodules by their files. */
async function gitPaths(root: string, tick: () => void): Promise<string[]> {
  const listed = nulList((await git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, onTick: tick })).stdout);
  const out: string[] = [];
  for (const p of new Set(listed)) {
    const st = await lstat(join(root, p)).catch(() => undefined);
    if (st?.isDirectory())
      await walkPlain(root, join(root, p), out, tick); // a submodule or nested repository
    else out.push(p);
  }
  return out;
}

/**
 * A link is kept when it points inside the project: a relative target as it is, an absolute one
 * inside the project made relative; any other is left out. `root` is canonical; an absolute target
 * may name the project through another path to it (a symlinked ancestor, /tmp → /private/tmp on
 * macOS), so its directory is canonicalized before it is judged.
 */
async function linkInside(root: string, path: string, target: string): Promise<string | undefined> {
  const at = resolve(root, dirname(path));
  let dest = resolve(at, target);
  if (!isInside(root, dest) && isAbsolute(target)) {
    const dir = await realpath(dirname(dest)).catch(() => undefined);
    if (dir !== undefined) dest = join(dir, basename(dest));
  }
  if (!isInside(root, dest)) return undefined;
  return isAbsolute(target) ? relative(at, dest) || '.' : target;
}

export async function listSource(root: string, isGit: boolean, tick: () => void): Promise<SourceListing> {
  const paths = isGit ? await gitPaths(root, tick) : await collectPlain(root, tick);
  paths.sort();
  const entries: SourceEntry[] = [];
  const skippedLinks: string[] = [];
  let bytes = 0;
  let sliceStart = Date.now();
  for (const path of paths) {
    // Synchronous stats in short slices (as copyTree.ts does, for the same reason).
    if (Date.now() - sliceStart >= 20) {
      tick();
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
    const abs = join(root, path);
    const st = lstatSync(abs, { throwIfNoEntry: false }); // absent: tracked but deleted in the work tree, an uncommitted change
    if (!st) continue;
    if (st.isSymbolicLink()) {
      const link = await linkInside(root, path, await readlink(abs));
      if (link === undefined) skippedLinks.push(path);
      else entries.push({ path, kind: 'link', size: 0, mode: 0o777, link });
    } else if (st.isFile()) {
      entries.push({ path, kind: 'file', size: st.size, mode: st.mode & 0o777 });
      bytes += st.size;
    }
  }
  return { entries, bytes, skippedLinks };
}

async function collectPlain(root: string, tick: () => void): Promise<string[]> {
  const out: string[] = [];
  await walkPlain(root, root, out, tick);
  return out;
}
