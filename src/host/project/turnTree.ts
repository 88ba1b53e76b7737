/** A project run's files as of a Solver turn, written out of the turn's snapshot (for `infty diff --at-turn`). */
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSnapshot, type SnapshotManifest } from '../snapshotManifest';
import { objectPathIn } from './objects';

type TurnManifest = Pick<SnapshotManifest, 'files'>;

/** A turn's files, resolved through its chain of deltas (src/host/snapshotManifest.ts). */
export const readTurnManifest = readSnapshot;

/** Writes the project's files (not its .git) of `manifest` into `dest`. */
export async function writeTurnProject(home: string, manifest: TurnManifest, projectDir: string, dest: string): Promise<void> {
  const prefix = `${projectDir}/`;
  for (const f of manifest.files) {
    if (!f.path.startsWith(prefix) || f.path.startsWith(`${prefix}.git/`)) continue;
    const out = join(dest, f.path.slice(prefix.length));
    await mkdir(dirname(out), { recursive: true });
    if (f.link !== undefined) await symlink(f.link, out);
    else {
      await copyFile(objectPathIn(home, f.sha256), out, constants.COPYFILE_FICLONE);
      await chmod(out, f.mode);
    }
  }
}
