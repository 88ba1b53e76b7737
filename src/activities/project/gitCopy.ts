/**
 * The project copy's own git repository (docs/behaviour.md §4.4): the Solver can log, diff, commit
 * as in the user's checkout, and nothing reaches the user's repository. The copy gets a clone of
 * the user's repository (objects copied, never hard-linked, so no write through the copy can reach
 * them), HEAD where the user's HEAD is, an index matching HEAD (so the user's uncommitted changes
 * show as uncommitted) and no remote.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { git, headBranch, headCommit } from '../../host/project/git';

export interface GitState {
  commit: string | null;
  branch: string | null;
}

/** Clones the repository at `sourceTop` into `dest` (which must not exist yet) without a work tree. */
export async function cloneForCopy(sourceTop: string, dest: string, tick: () => void): Promise<GitState> {
  await git(['clone', '--quiet', '--no-checkout', '--no-hardlinks', '--', sourceTop, dest], { onTick: tick });
  await detach(dest);
  return { commit: await headCommit(dest), branch: await headBranch(dest) };
}

/** After the work tree is in place: the index follows HEAD, so `git status` shows what differs from it. */
export async function indexFromHead(dir: string, tick: () => void): Promise<void> {
  if ((await headCommit(dir)) === null) return;
  await git(['read-tree', 'HEAD'], { cwd: dir, onTick: tick });
  await git(['update-index', '-q', '--refresh'], { cwd: dir, okCodes: [1], onTick: tick });
}

/** No way back to the source: the remote is removed (a push has nowhere to go), and its hooks were never copied. */
async function detach(dir: string): Promise<void> {
  await git(['remote', 'remove', 'origin'], { cwd: dir, okCodes: [2] });
  await rm(join(dir, '.git', 'FETCH_HEAD'), { force: true });
}

export class RefNotFound extends Error {}

/**
 * Clones `url` into `dest` and checks out `ref` (a branch, tag or commit; default the remote's
 * HEAD). The clone is the only network use of a run, and it happens outside the sandbox.
 */
export async function cloneFromUrl(url: string, ref: string | undefined, dest: string, tick: () => void): Promise<GitState> {
  await git(['clone', '--quiet', '--no-checkout', '--no-hardlinks', '--', url, dest], { onTick: tick });
  let commit: string | null;
  let branch: string | null = null;
  if (ref === undefined) {
    commit = await headCommit(dest);
    branch = await headBranch(dest);
  } else {
    commit = null;
    for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
      const r = await git(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`], { cwd: dest, okCodes: [1, 128] });
      if (r.code === 0) {
        commit = r.stdout.toString('utf8').trim();
        if (candidate.startsWith('refs/remotes/')) branch = ref;
        break;
      }
    }
    if (commit === null) throw new RefNotFound(`"${ref}" is not a branch, tag or commit of the repository`);
  }
  if (commit !== null) {
    if (branch !== null) await git(['checkout', '--quiet', '--force', '-B', branch, commit], { cwd: dest, onTick: tick });
    else await git(['checkout', '--quiet', '--force', '--detach', commit], { cwd: dest, onTick: tick });
  }
  await detach(dest);
  return { commit, branch };
}
