/** Deliverable validation (docs/behaviour.md §4): canonical, inside the run directory, exists; size and sha256 or a manifest. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DeliverableCheck } from '../protocol/deliverable';
import { canonicalRunDir, PathOutsideRunDirError, resolveInsideRunDir } from './tools/paths';

const MAX_MANIFEST_ENTRIES = 200;

/** Hashes a file of any size, calling `progress` as it reads (the activity heartbeats there). */
async function sha256(path: string, progress: () => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    progress();
  }
  return hash.digest('hex');
}

interface Walk {
  files: { path: string; size: number; sha256: string }[];
  totalFiles: number;
  totalSize: number;
}

/** Lists up to MAX_MANIFEST_ENTRIES files with hashes; counts and sizes cover every file. */
async function manifest(root: string, dir: string, walk: Walk, progress: () => void): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(dir, e.name);
    progress();
    if (e.isDirectory()) await manifest(root, full, walk, progress);
    else if (e.isFile()) {
      const size = (await stat(full)).size;
      walk.totalFiles += 1;
      walk.totalSize += size;
      if (walk.files.length < MAX_MANIFEST_ENTRIES) walk.files.push({ path: relative(root, full), size, sha256: await sha256(full, progress) });
    }
    // Symlinks inside a deliverable are not followed: they could point anywhere.
  }
}

/** `progress` is called while large deliverables are read, so the activity can heartbeat. */
export async function validateDeliverable(input: { runDir: string; path: string }, progress: () => void = () => undefined): Promise<DeliverableCheck> {
  const claimed = input.path.trim();
  if (!claimed) return { ok: false, reason: 'deliverable_path is blank' };
  let resolved: string;
  try {
    resolved = await resolveInsideRunDir(input.runDir, claimed);
  } catch (err) {
    if (err instanceof PathOutsideRunDirError) {
      return { ok: false, reason: `deliverable_path "${claimed}" is outside the run directory (it resolves to ${err.resolvedPath}, possibly through a symlink)` };
    }
    throw err;
  }
  const root = await canonicalRunDir(input.runDir);
  let info;
  try {
    info = await lstat(resolved);
  } catch {
    return { ok: false, reason: `deliverable_path "${claimed}" does not exist in the run directory` };
  }
  const relativePath = relative(root, resolved) || '.';
  if (info.isFile()) {
    return { ok: true, path: resolved, relativePath, kind: 'file', size: info.size, sha256: await sha256(resolved, progress) };
  }
  if (info.isDirectory()) {
    const walk: Walk = { files: [], totalFiles: 0, totalSize: 0 };
    await manifest(resolved, resolved, walk, progress);
    return { ok: true, path: resolved, relativePath, kind: 'directory', size: walk.totalSize, files: walk.totalFiles, manifest: walk.files };
  }
  return { ok: false, reason: `deliverable_path "${claimed}" is neither a file nor a directory` };
}
