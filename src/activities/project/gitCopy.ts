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
  const source: GitState = { commit: await headCommit(sourceTop), branch: await headBranch(sourceTop) };
  await git(['clone', '--quiet', '--no-checkout', '--no-hardlinks', '--', sourceTop, dest], { onTick: tick });
  await keepBranches(dest);
  // HEAD as the user's: on the same branch, or detached at the same commit (a clone would pick a branch).
  if (source.branch !== null) await git(['symbolic-ref', 'HEAD', `refs/heads/${source.branch}`], { cwd: dest });
  else if (source.commit !== null) await git(['update-ref', '--no-deref', 'HEAD', source.commit], { cwd: dest });
  await detach(dest);
  return { commit: await headCommit(dest), branch: await headBranch(dest) };
}

/**
 * Every branch of the source as a local branch of the copy: a clone has them only as
 * remote-tracking refs, which go with the remote (and `git log feature-x` must work as in the
 * user's checkout).
 */
async function keepBranches(dir: string): Promise<void> {
  const refs = (await git(['for-each-ref', '--format=%(refname:strip=3) %(objectname)', 'refs/remotes/origin'], { cwd: dir })).stdout.toString('utf8');
  const updates = refs
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter(([name, sha]) => name && sha && name !== 'HEAD')
    .map(([name, sha]) => `update refs/heads/${name} ${sha}\n`)
    .join('');
  if (updates) await git(['update-ref', '--stdin'], { cwd: dir, input: updates });
}

/** After the work tree is in place: the index follows HEAD, so `git status` shows what differs from it. */
export async function indexFromHead(dir: string, tick: () => void): Promise<void> {
  if ((await headCommit(dir)) === null) return;
  await git(['read-tree', 'HEAD'], { cwd: dir, onTick: tick });
  await git(['update-index', '-q', '--refresh'], { cwd: dir, okCodes: [1], onTick: tick });
}

/**
 * No way back to the source: the remote is removed (a push has nowhere to go), and its hooks were
 * never copied. Where no identity is configured (a worker without a global git config), the copy
 * gets one, so the Solver's `git commit` works as in a configured checkout.
 */
async function detach(dir: string): Promise<void> {
  await git(['remote', 'remove', 'origin'], { cwd: dir, okCodes: [2] });
  await rm(join(dir, '.git', 'FETCH_HEAD'), { force: true });
  for (const [key, value] of [
    ['user.name', 'Infty Solver'],
    ['user.email', 'solver@infty.invalid'],
  ]) {
    if ((await git(['config', '--get', key!], { cwd: dir, okCodes: [1] })).code === 1) await git(['config', key!, value!], { cwd: dir });
  }
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
  await keepBranches(dest);
  if (commit !== null) {
    if (branch !== null) await git(['checkout', '--quiet', '--force', branch], { cwd: dest, onTick: tick });
    else await git(['checkout', '--quiet', '--force', '--detach', commit], { cwd: dest, onTick: tick });
  }
  await detach(dest);
  return { commit, branch };
}
