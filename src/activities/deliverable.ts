/** Deliverable validation (SPEC §4): canonical, inside the run directory, exists; size and sha256 or a manifest. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DeliverableCheck } from '../protocol/deliverable';
import { canonicalRunDir, PathOutsideRunDirError, resolveInsideRunDir } from './tools/paths';

const MAX_MANIFEST_ENTRIES = 200;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function manifest(root: string, dir: string, out: { path: string; size: number; sha256: string }[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (out.length >= MAX_MANIFEST_ENTRIES) return;
    const full = join(dir, e.name);
    if (e.isDirectory()) await manifest(root, full, out);
    else if (e.isFile()) out.push({ path: relative(root, full), size: (await stat(full)).size, sha256: await sha256(full) });
    // Symlinks inside a deliverable are not followed: they could point anywhere.
  }
}

export async function validateDeliverable(input: { runDir: string; path: string }): Promise<DeliverableCheck> {
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
    return { ok: true, path: resolved, relativePath, kind: 'file', size: info.size, sha256: await sha256(resolved) };
  }
  if (info.isDirectory()) {
    const files: { path: string; size: number; sha256: string }[] = [];
    await manifest(resolved, resolved, files);
    return { ok: true, path: resolved, relativePath, kind: 'directory', size: files.reduce((n, f) => n + f.size, 0), manifest: files };
  }
  return { ok: false, reason: `deliverable_path "${claimed}" is neither a file nor a directory` };
}
