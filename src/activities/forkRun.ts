/**
 * Creating a fork's files (docs/architecture.md decision 13): the run directory from the source's
 * snapshot at the fork turn, and per role a transcript whose first line shares the source's
 * committed lines by reference. The source's files are only read.
 */
import { ApplicationFailure } from '@temporalio/common';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RolePositions } from '../protocol/activities';
import { writeFileDurable } from './durable/files';
import { readManifest, restoreSnapshot, type SnapshotManifest } from './snapshots';
import { prefixLine } from './transcriptPrefix';
import { transcriptPath } from './transcripts';

export interface ForkSource {
  runId: string;
  turn: number;
}

export async function forkManifest(home: string, source: ForkSource): Promise<SnapshotManifest> {
  const manifest = await readManifest(home, source.runId, source.turn);
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
  const positions = forkPositions(manifest, roles);
  for (const [role, p] of Object.entries(positions)) {
    const path = transcriptPath(home, runId, role, p.generation);
    await mkdir(dirname(path), { recursive: true });
    await writeFileDurable(path, `${prefixLine({ run: source.runId, role, generation: p.generation, lines: p.committedLength })}\n`);
  }
  return positions;
}
