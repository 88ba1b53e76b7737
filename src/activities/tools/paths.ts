/** Confinement of model-supplied paths to the run directory. */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export class PathOutsideRunDirError extends Error {
  constructor(
    readonly requestedPath: string,
    readonly resolvedPath: string,
  ) {
    super(`path '${requestedPath}' is outside the run directory (resolves to ${resolvedPath}); paths must stay inside the run directory`);
    this.name = 'PathOutsideRunDirError';
  }
}

const MAX_SYMLINK_HOPS = 40;

/**
 * Canonicalizes an absolute path whose tail may not exist yet: realpath of the deepest existing
 * ancestor plus the remaining components. Dangling symlinks are followed (so creating a file
 * through one is judged by where it would really land).
 */
async function canonicalize(abs: string, hops = 0): Promise<string> {
  const remaining: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const real = await fs.realpath(cur);
      return remaining.length > 0 ? path.join(real, ...remaining) : real;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    let isLink = false;
    try {
      isLink = (await fs.lstat(cur)).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (isLink) {
      if (hops >= MAX_SYMLINK_HOPS) {
        const err: NodeJS.ErrnoException = new Error(`ELOOP: too many symbolic links: ${abs}`);
        err.code = 'ELOOP';
        err.syscall = 'realpath';
        throw err;
      }
      const target = await fs.readlink(cur);
      return canonicalize(path.resolve(path.dirname(cur), target, ...remaining), hops + 1);
    }
    const parent = path.dirname(cur);
    if (parent === cur) return path.join(cur, ...remaining);
    remaining.unshift(path.basename(cur));
    cur = parent;
  }
}

/** True when `child` equals `root` or lies beneath it (both canonical, absolute). */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The canonical (realpath) run directory; throws (an internal failure) when it does not exist. */
export async function canonicalRunDir(runDir: string): Promise<string> {
  try {
    return await fs.realpath(runDir);
  } catch (e) {
    throw new Error(`run directory ${runDir} is not accessible: ${(e as Error).message}`);
  }
}

/**
 * Resolves a model-supplied path against the run directory and returns its canonical absolute
 * form. Relative paths resolve against `workdir` (default runDir); absolute paths are allowed only if inside runDir.
 * Throws PathOutsideRunDirError when the canonical result escapes the canonical run directory.
 */
export async function resolveInsideRunDir(runDir: string, p: string, workdir?: string): Promise<string> {
  const root = await canonicalRunDir(runDir);
  if (p.includes('\0')) throw new PathOutsideRunDirError(p.replace(/\0/g, '\\0'), '(invalid path containing a NUL byte)');
  // A project run's relative paths start in its working directory (docs/behaviour.md §4.4); confinement stays the run directory.
  const start = workdir ? await canonicalize(path.resolve(workdir)) : root;
  const candidate = path.isAbsolute(p) ? path.resolve(p) : path.resolve(start, p);
  // An absolute path spelled with the non-canonical run dir (e.g. through a symlinked /tmp) is fine.
  const canonical = await canonicalize(candidate);
  if (!isInside(root, canonical)) throw new PathOutsideRunDirError(p, canonical);
  return canonical;
}
