/** The `projectChange` activity: a project run's change against its base, summarized, and as a patch when asked. */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { readBaseManifest } from '../../host/project/base';
import { baseTree, diffTrees, summarizeChange, workTree } from '../../host/project/changes';
import type { ProjectChangeInput, ProjectChangeResult } from '../../protocol/activities';
import { writeFileDurable } from '../durable/files';

/** Where `--deliver diff` writes the patch, relative to the run directory (beside the project, not in it). */
export const PATCH_PATH = 'deliverable/changes.patch';

export async function projectChange(input: ProjectChangeInput, home: string, tick: () => void): Promise<ProjectChangeResult> {
  const base = await readBaseManifest(home, input.runId);
  if (!base) throw ApplicationFailure.nonRetryable(`run ${input.runId} has no base record in ${home}/projects`, 'ProjectBaseMissing');
  const timer = setInterval(tick, 1000);
  try {
    const from = await baseTree(home, base);
    const to = await workTree(home, base, input.project.root, 'work');
    const summary = await summarizeChange(home, from, to);
    if (!input.writePatch) return { summary };
    const patch = await diffTrees(home, from, to, { binary: true });
    const dest = join(input.runDir, PATCH_PATH);
    await mkdir(join(input.runDir, 'deliverable'), { recursive: true });
    await writeFileDurable(dest, patch);
    return { summary, patchPath: PATCH_PATH };
  } finally {
    clearInterval(timer);
  }
}
