/** The `list_dir` tool: a sorted tree listing of a directory inside the run directory. */
import { type Dirent, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { argsError, describeFsError, isErrnoException, type ToolContext } from './context';
import { errorResult, type ToolResult, textResult } from './output';
import { PathOutsideRunDirError, resolveInsideRunDir } from './paths';

export const DEFAULT_LIST_DEPTH = 2;
export const MAX_LIST_DEPTH = 5;
export const MAX_LIST_ENTRIES = 500;

const ListDirArgs = z.object({
  path: z.string().min(1, 'must be a non-empty path'),
  depth: z.number().int().min(1, 'must be at least 1').optional(),
});

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The first `keep` entries of `dir` in name order, and how many entries it has, holding at most
 * about 2×`keep` of them at a time however big the directory is.
 */
async function firstEntries(dir: string, keep: number): Promise<{ entries: Dirent[]; total: number }> {
  const kept: Dirent[] = [];
  let total = 0;
  for await (const d of await fs.opendir(dir, { bufferSize: 256 })) {
    total++;
    if (keep === 0) break; // only whether there is anything left unlisted
    kept.push(d);
    if (kept.length >= 2 * keep + 64) {
      kept.sort(byName);
      kept.length = keep;
    }
  }
  kept.sort(byName);
  if (kept.length > keep) kept.length = keep;
  return { entries: kept, total };
}

/**
 * Lists `path` recursively down to `depth` levels (default 2, at most 5): first line the
 * canonical absolute path, then entries sorted by name, indented two spaces per level,
 * directories with a trailing `/`, symlinks with `@` (not followed). At most 500 entries.
 */
export async function listDir(args: unknown, ctx: ToolContext): Promise<ToolResult> {
  const parsed = ListDirArgs.safeParse(args);
  if (!parsed.success) return argsError('list_dir', parsed.error);
  const { path: p } = parsed.data;
  const depth = Math.min(parsed.data.depth ?? DEFAULT_LIST_DEPTH, MAX_LIST_DEPTH);
  try {
    const root = await resolveInsideRunDir(ctx.runDir, p, ctx.workdir);
    let st: Stats;
    try {
      st = await fs.stat(root);
    } catch (e) {
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return errorResult(`directory not found: ${p}`);
      throw e;
    }
    if (!st.isDirectory()) return errorResult(`${p} is not a directory; use read_file to read a file`);

    const out: string[] = [root];
    let entries = 0;
    let truncated = false;

    const walk = async (dir: string, level: number): Promise<void> => {
      let dirents: Dirent[];
      try {
        const { entries: first, total } = await firstEntries(dir, MAX_LIST_ENTRIES - entries);
        if (total > first.length) truncated = true;
        dirents = first;
      } catch (e) {
        if (isErrnoException(e)) {
          out.push(`${'  '.repeat(level)}(cannot list: ${describeFsError(e, path.basename(dir))})`);
          return;
        }
        throw e;
      }
      for (const d of dirents) {
        if (entries >= MAX_LIST_ENTRIES) {
          truncated = true;
          return;
        }
        entries++;
        const indent = '  '.repeat(level);
        if (d.isSymbolicLink()) {
          out.push(`${indent}${d.name}@`);
        } else if (d.isDirectory()) {
          out.push(`${indent}${d.name}/`);
          if (level < depth) await walk(path.join(dir, d.name), level + 1);
        } else {
          out.push(`${indent}${d.name}`);
        }
      }
    };
    await walk(root, 1);
    if (entries === 0) out.push('  (empty directory)');
    if (truncated) out.push(`[listing truncated after ${MAX_LIST_ENTRIES} entries; list a subdirectory or use a smaller depth]`);
    return textResult(out.join('\n'));
  } catch (e) {
    if (e instanceof PathOutsideRunDirError) return errorResult(e.message);
    if (isErrnoException(e)) return errorResult(`cannot list ${p}: ${describeFsError(e, p)}`);
    throw e;
  }
}
