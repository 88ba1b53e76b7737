/** A project run's files as of a Solver turn, written out of the turn's snapshot (for `infty diff --at-turn`). */
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BaseFile } from './base';
import { objectPathIn } from './objects';

interface TurnManifest {
  files: BaseFile[];
}

export async function readTurnManifest(home: string, runId: string, turn: number): Promise<TurnManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(home, 'snapshots', runId, `turn-${turn}.json`), 'utf8')) as TurnManifest;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

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
