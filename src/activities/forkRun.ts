/**
 * Creating a fork's files (docs/architecture.md decision 13): the run directory from the source's
 * snapshot at the fork turn, and per role a transcript whose first line shares the source's
 * committed lines by reference. The source's files are only read.
 */

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { BrokenSnapshotChain, readSnapshot, type SnapshotManifest } from '../host/snapshotManifest';
import type { RolePositions } from '../protocol/activities';
import { writeFileDurable } from './durable/files';
import { restoreSnapshot } from './snapshots';
import { prefixLine } from './transcriptPrefix';
import { transcriptPath } from './transcripts';

export interface ForkSource {
  runId: string;
  turn: number;
}

export async function forkManifest(home: string, source: ForkSource): Promise<SnapshotManifest> {
  const manifest = await readSnapshot(home, source.runId, source.turn).catch((err: unknown) => {
    if (err instanceof BrokenSnapshotChain) throw ApplicationFailure.nonRetryable(err.message, 'ForkSourceMissing');
    throw err;
  });
  if (!manifest) {
    throw ApplicationFailure.nonRetryable(
      `run "${source.runId}" has no snapshot of Solver turn ${source.turn} in ${home} (the run does not exist here, has not completed that turn, or ran before turn snapshots)`,
      'ForkSourceMissing',
    );
  }
  return manifest;
}

/** The source's roles at the fork turn, limited to the fork's roles. */
export function forkPositions(manifest: SnapshotManifest, roles: string[]): RolePositions {
  return Object.fromEntries(Object.entries(manifest.roles).filter(([role, p]) => roles.includes(role) && p.committedLength > 0));
}

/** Fills the fork's run directory and writes its linked transcripts; returns where each role continues. */
export async function materializeFork(home: string, runDir: string, runId: string, source: ForkSource, roles: string[]): Promise<RolePositions> {
  const manifest = await forkManifest(home, source);
  await restoreSnapshot(home, manifest, runDir);
  await completeGitDirs(runDir, manifest);
  const positions = forkPositions(manifest, roles);
  for (const [role, p] of Object.entries(positions)) {
    const path = transcriptPath(home, runId, role, p.generation);
    await mkdir(dirname(path), { recursive: true });
    await writeFileDurable(path, `${prefixLine({ run: source.runId, role, generation: p.generation, lines: p.committedLength })}\n`);
  }
  return positions;
}

/**
 * A snapshot holds files and links, not directories: a git repository's refs/ may have held no file
 * at the fork turn (a detached HEAD that no branch names, refs packed by `git gc`), and git does not
 * take a .git without refs/ for a repository. Each restored .git gets the directories `git init`
 * makes (a project copy's .git in particular, so git works in the fork as in the source).
 */
async function completeGitDirs(runDir: string, manifest: SnapshotManifest): Promise<void> {
  for (const f of manifest.files) {
    if (f.path !== '.git/HEAD' && !f.path.endsWith('/.git/HEAD')) continue;
    const gitDir = join(runDir, ...dirname(f.path).split('/'));
    for (const sub of ['refs/heads', 'refs/tags', 'objects/info', 'objects/pack']) await mkdir(join(gitDir, ...sub.split('/')), { recursive: true });
  }
}
