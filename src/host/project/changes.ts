/**
 * A project run's change (docs/behaviour.md §4.4), computed with real git in a private repository
 * under INFTY_HOME (never the project's own .git): the base tree from the base record, the
 * project's current tree (git's ignore rules apply; the base's files stay tracked), and a unified
 * diff between them (renames detected, binary files named).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChangeSummary } from '../../protocol/project';
import { type BaseFile, type BaseManifest, projectMetaDir } from './base';
import { git, gitText, nulList } from './git';
import { defaultExcludesText } from './ignore';
import { objectPathIn } from './objects';

/** The private repository holding base and work trees of every run (objects shared: one repository, many runs). */
export function changesRepo(home: string): string {
  return join(home, 'git');
}

async function ensureRepo(home: string): Promise<string> {
  const dir = changesRepo(home);
  if (!existsSync(join(dir, 'HEAD'))) {
    await mkdir(dir, { recursive: true });
    await git(['init', '--quiet', '--bare', dir]);
  }
  const excludes = join(dir, 'infty-default-excludes');
  if (!existsSync(excludes)) await writeFile(excludes, defaultExcludesText());
  return dir;
}

/** Settings of every command on the private repository: content as it is on disk. */
const PLAIN = ['-c', 'core.autocrlf=false', '-c', 'core.filemode=true', '-c', 'core.symlinks=true', '-c', 'core.safecrlf=false'];

const gitMode = (f: BaseFile) => (f.link !== undefined ? '120000' : f.mode & 0o111 ? '100755' : '100644');

const tmpName = (dir: string, stem: string) => join(dir, `${stem}.${process.pid}.${randomBytes(4).toString('hex')}`);

/** The base's tree in the private repository (computed once per run, then cached). */
export async function baseTree(home: string, base: BaseManifest): Promise<string> {
  const repo = await ensureRepo(home);
  const cache = join(projectMetaDir(home, base.runId), 'base.tree');
  const cached = existsSync(cache) ? (await readFile(cache, 'utf8')).trim() : '';
  if (cached && (await git(['cat-file', '-e', `${cached}^{tree}`], { env: { GIT_DIR: repo }, okCodes: [1, 128] })).code === 0) return cached;
  const env = { GIT_DIR: repo };
  const regular = base.files.filter((f) => f.link === undefined);
  const ids = (
    await gitText(['hash-object', '-w', '--no-filters', '--stdin-paths'], { env, input: `${regular.map((f) => objectPathIn(home, f.sha256)).join('\n')}\n` })
  )
    .split('\n')
    .filter(Boolean);
  const blobOf = new Map(regular.map((f, i) => [f.path, ids[i]!]));
  for (const f of base.files) {
    if (f.link !== undefined) blobOf.set(f.path, await gitText(['hash-object', '-w', '--stdin'], { env, input: f.link }));
  }
  const index = tmpName(repo, 'base-index');
  try {
    // NUL-terminated: a file name may hold a newline.
    const info = base.files.map((f) => `${gitMode(f)} ${blobOf.get(f.path)}\t${f.path}\0`).join('');
    await git(['update-index', '-z', '--add', '--index-info'], { env: { ...env, GIT_INDEX_FILE: index }, input: info });
    const tree = await gitText(['write-tree'], { env: { ...env, GIT_INDEX_FILE: index } });
    await mkdir(dirname(cache), { recursive: true });
    await writeFile(cache, `${tree}\n`);
    return tree;
  } finally {
    await rm(index, { force: true });
  }
}

/**
 * The tree of `dir` as it is now: the base's files stay tracked (also where an ignore rule names
 * them), new files count unless git's ignore rules (or, for a project that did not come from git,
 * the default ignore list) leave them out. `cacheKey`: keep the index (stat cache) between calls.
 */
export async function workTree(home: string, base: BaseManifest, dir: string, cacheKey?: string): Promise<string> {
  const repo = await ensureRepo(home);
  const start = await baseTree(home, base);
  const index = tmpName(repo, 'work-index');
  const kept = cacheKey ? join(projectMetaDir(home, base.runId), `${cacheKey}.index`) : undefined;
  const env = { GIT_DIR: repo, GIT_WORK_TREE: dir, GIT_INDEX_FILE: index };
  const excludes =
    base.record.source.kind === 'path' && base.record.source.gitTopLevel === null ? ['-c', `core.excludesFile=${join(repo, 'infty-default-excludes')}`] : [];
  try {
    if (kept && existsSync(kept)) await copyFile(kept, index);
    else await git(['read-tree', start], { env });
    await adoptNestedRepositories([...PLAIN, ...excludes], env, dir);
    await git([...PLAIN, ...excludes, 'add', '-A', '--', '.'], { env, cwd: dir });
    const tree = await gitText(['write-tree'], { env });
    if (kept) await rename(index, kept).catch(() => undefined);
    return tree;
  } finally {
    await rm(index, { force: true });
  }
}

/** The name of the placeholder entry that makes git walk a nested repository as a directory (never a file of the tree: `add -A` drops it). */
const NESTED_PLACEHOLDER = '.infty-nested-repository';

/**
 * Directories holding a repository of their own that the index does not know (a `git init` or a
 * clone made inside the project): `git add` would record a gitlink for each, without its files, or
 * fail outright when it has no commit yet. A placeholder entry under each makes git walk it as a
 * plain directory (its files count, git's ignore rules apply, its .git is skipped as every .git
 * is); the `add -A` that follows drops the placeholders, whose files do not exist. Level by level,
 * for repositories inside those.
 */
async function adoptNestedRepositories(flags: string[], env: Record<string, string>, dir: string): Promise<void> {
  let empty: string | undefined;
  for (let level = 0; level < 64; level++) {
    const listed = nulList((await git([...flags, 'ls-files', '-z', '--others', '--exclude-standard', '--', '.'], { env, cwd: dir })).stdout);
    const nested = listed.filter((p) => p.endsWith('/'));
    if (nested.length === 0) return;
    empty ??= await gitText(['hash-object', '-w', '--stdin'], { env });
    await git(['update-index', '-z', '--add', '--index-info'], {
      env,
      cwd: dir,
      input: nested.map((d) => `100644 ${empty}\t${d}${NESTED_PLACEHOLDER}\0`).join(''),
    });
  }
}

export interface DiffOptions {
  stat?: boolean;
  binary?: boolean;
}

/** The unified diff from tree `from` to tree `to` (renames detected). */
export async function diffTrees(home: string, from: string, to: string, opts: DiffOptions = {}): Promise<Buffer> {
  const args = ['diff', '--no-ext-diff', '--no-color', '-M', ...(opts.stat ? ['--stat=120'] : []), ...(opts.binary ? ['--binary'] : []), from, to];
  return (await git(args, { env: { GIT_DIR: changesRepo(home) } })).stdout;
}

const SUMMARY_FILES = 200;

/** Files changed with lines added and removed (null for binary files), as Verifiers see it. */
export async function summarizeChange(home: string, from: string, to: string): Promise<ChangeSummary> {
  const env = { GIT_DIR: changesRepo(home) };
  // NUL-separated (-z): any file name, newlines included, stays one entry.
  const counts = nulList((await git(['diff', '--numstat', '-z', '-M', from, to], { env })).stdout);
  const statuses = nulList((await git(['diff', '--name-status', '-z', '-M', from, to], { env })).stdout);
  const files: ChangeSummary['files'] = [];
  let added = 0;
  let removed = 0;
  let total = 0;
  for (let c = 0, s = 0; c < counts.length && s < statuses.length; total++) {
    const [a, r, path] = counts[c]!.split('\t');
    c += path === '' ? 3 : 1; // a rename: "a\tr\t", then the old and the new path
    const code = statuses[s]!;
    const twoPaths = code.startsWith('R') || code.startsWith('C');
    const shown = twoPaths ? `${statuses[s + 1]} → ${statuses[s + 2]}` : statuses[s + 1]!;
    s += twoPaths ? 3 : 2;
    const add = a === '-' ? null : Number(a);
    const rem = r === '-' ? null : Number(r);
    added += add ?? 0;
    removed += rem ?? 0;
    if (files.length < SUMMARY_FILES) files.push({ path: shown, added: add, removed: rem, status: statusWord(code) });
  }
  return { files, added, removed, more: Math.max(0, total - files.length) };
}

function statusWord(code: string): string {
  const c = code[0];
  return c === 'A' ? 'added' : c === 'D' ? 'deleted' : c === 'R' ? 'renamed' : c === 'C' ? 'copied' : c === 'T' ? 'type changed' : 'modified';
}

export interface MergeResult {
  /** The target's tree as it is, and as it would be with the change. */
  ours: string;
  merged: string;
  conflicts: string[];
}

/**
 * Three-way merge of the change (base → theirs) into `target` (a checkout): git's merge of two
 * commits made over the base commit. Nothing in `target` is changed.
 */
export async function mergeIntoCheckout(home: string, base: BaseManifest, theirs: string, target: string): Promise<MergeResult> {
  const repo = changesRepo(home);
  const env = {
    GIT_DIR: repo,
    GIT_AUTHOR_NAME: 'infty',
    GIT_AUTHOR_EMAIL: 'infty@localhost',
    GIT_COMMITTER_NAME: 'infty',
    GIT_COMMITTER_EMAIL: 'infty@localhost',
  };
  const start = await baseTree(home, base);
  const ours = await workTreeOf(home, base, target);
  const baseCommit = await gitText(['commit-tree', start, '-m', 'base'], { env });
  const oursCommit = await gitText(['commit-tree', ours, '-p', baseCommit, '-m', 'target'], { env });
  const theirsCommit = await gitText(['commit-tree', theirs, '-p', baseCommit, '-m', 'run'], { env });
  const r = await git(['merge-tree', '--write-tree', '--name-only', '--no-messages', oursCommit, theirsCommit], { env, okCodes: [1] });
  const lines = r.stdout.toString('utf8').split('\n');
  const merged = lines[0]!.trim();
  const conflicts =
    r.code === 1
      ? [
          ...new Set(
            lines
              .slice(1)
              .map((l) => l.trim())
              .filter(Boolean),
          ),
        ]
      : [];
  return { ours, merged, conflicts };
}

/** A checkout's working tree as a tree (its own ignore rules apply; its .git is never read). */
async function workTreeOf(home: string, base: BaseManifest, dir: string): Promise<string> {
  return workTree(home, base, dir);
}
