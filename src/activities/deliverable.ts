/**
 * Deliverable validation (docs/behaviour.md §4.2): canonical, inside the run directory, exists;
 * size, sha256 or a manifest, and the content hash a verification round is bound to (§3.3).
 */
import { lstat } from 'node:fs/promises';
import { relative } from 'node:path';
import { hashContent } from '../host/contentHash';
import type { DeliverableCheck } from '../protocol/deliverable';
import { canonicalRunDir, PathOutsideRunDirError, resolveInsideRunDir } from './tools/paths';

const MAX_MANIFEST_ENTRIES = 200;

/** `progress` is called while large deliverables are read, so the activity can heartbeat. */
export async function validateDeliverable(
  input: { runDir: string; path: string; workdir?: string },
  progress: () => void = () => undefined,
): Promise<DeliverableCheck> {
  const claimed = input.path.trim();
  if (!claimed) return { ok: false, reason: 'deliverable_path is blank' };
  let resolved: string;
  try {
    resolved = await resolveInsideRunDir(input.runDir, claimed, input.workdir);
  } catch (err) {
    if (err instanceof PathOutsideRunDirError) {
      return {
        ok: false,
        reason: `deliverable_path "${claimed}" is outside the run directory (it resolves to ${err.resolvedPath}, possibly through a symlink)`,
      };
    }
    throw err;
  }
  const root = await canonicalRunDir(input.runDir);
  try {
    await lstat(resolved);
  } catch {
    return { ok: false, reason: `deliverable_path "${claimed}" does not exist in the run directory` };
  }
  const relativePath = relative(root, resolved) || '.';
  const content = await hashContent(resolved, { maxManifest: MAX_MANIFEST_ENTRIES, progress });
  if (!content) return { ok: false, reason: `deliverable_path "${claimed}" is neither a file nor a directory` };
  return { ok: true, path: resolved, relativePath, ...content };
}
