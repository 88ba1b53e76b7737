/**
 * Creating a project run's copy (docs/behaviour.md §4.4) inside a staging run directory: the
 * source's files through the content-addressed store, the copy's git repository, and the base
 * record. Every refusal is an `InvalidProjectSource` failure with what to do; the caller removes
 * the staging directory, so nothing is left half-created.
 */

import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { BaseFile } from '../../host/project/base';
import { GitError, git, gitTopLevel } from '../../host/project/git';
import { PROJECT_DIR, type ProjectRecord, type ProjectSource, redactUrl } from '../../protocol/project';
import { copyTree } from './copyTree';
import { cloneForCopy, cloneFromUrl, type GitState, indexFromHead, RefNotFound } from './gitCopy';
import { listSource, type SourceListing } from './listing';

export const INVALID_PROJECT_SOURCE = 'InvalidProjectSource';

/** Documented limits of a project copy (docs/behaviour.md §4.4); the environment can raise them. */
export function projectLimits(env: NodeJS.ProcessEnv = process.env): { files: number; bytes: number } {
  const num = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
  return { files: num(env.INFTY_PROJECT_MAX_FILES, 250_000), bytes: num(env.INFTY_PROJECT_MAX_BYTES, 4 * 1024 ** 3) };
}

export interface ImportContext {
  home: string;
  runId: string;
  /** The staging run directory; the copy goes to its PROJECT_DIR. */
  stagingDir: string;
  /** The run directory it becomes (the record's paths name it). */
  runDir: string;
  /** This worker keeps runs on its own disk (local storage). */
  localStorage: boolean;
  workerId: string;
  tick: () => void;
}

export interface ImportedProject {
  record: ProjectRecord;
  files: BaseFile[];
  newBytes: number;
}

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, INVALID_PROJECT_SOURCE);

function checkLimits(listing: SourceListing, what: string): void {
  const limits = projectLimits();
  // Exact bytes, so a size just over the limit never reads as equal to it (nor a small limit as "0.00 GiB").
  const size = (n: number) => {
    if (n < 1024 ** 2) return `${n} bytes`;
    const human = n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
    return `${human} (${n} bytes)`;
  };
  if (listing.entries.length > limits.files) {
    throw refuse(
      `${what} has ${listing.entries.length} files, over the limit of ${limits.files} (INFTY_PROJECT_MAX_FILES on the worker); start from a smaller directory or raise the limit`,
    );
  }
  if (listing.bytes > limits.bytes) {
    throw refuse(
      `${what} holds ${size(listing.bytes)}, over the limit of ${size(limits.bytes)} (INFTY_PROJECT_MAX_BYTES on the worker); start from a smaller directory or raise the limit`,
    );
  }
}

/** Where the path must be for this worker to see it. */
function wayOut(ctx: ImportContext): string {
  return ctx.localStorage
    ? `the worker that owns the run (${ctx.workerId}, local storage) reads --from on its own disk: start the run on that machine, put the project on storage every worker mounts (INFTY_STORAGE=shared), or use --from-git URL`
    : 'check the path, or use --from-git URL';
}

async function fromPath(source: ProjectSource & { path: string }, ctx: ImportContext): Promise<ImportedProject> {
  const here = hostname();
  if (ctx.localStorage && source.host && source.host !== here) {
    throw refuse(`--from ${source.path} names a directory on ${source.host}, but this worker runs on ${here}; ${wayOut(ctx)}`);
  }
  let real: string;
  try {
    real = await realpath(source.path);
    if (!(await stat(real)).isDirectory()) throw refuse(`--from ${source.path} is not a directory; give the project's directory`);
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw refuse(`--from ${source.path} does not exist on ${here}; ${wayOut(ctx)}`);
    if (code === 'EACCES') throw refuse(`--from ${source.path} cannot be read on ${here} (permission denied)`);
    throw err;
  }
  const top = await workTreeTop(real, source.path);
  const root = top ?? real;
  const listing = await listSource(root, top !== null, ctx.tick).catch((err: Error & { unreadable?: string }) => {
    if (err.unreadable !== undefined)
      throw refuse(
        `cannot read the directory ${join(root, err.unreadable)} of the project (permission denied); fix its permissions${top ? ' or add it to .gitignore' : ''}`,
      );
    throw err;
  });
  checkLimits(listing, `the project at ${root}`);
  const dest = join(ctx.stagingDir, PROJECT_DIR);
  const gitState: GitState = top ? await cloneForCopy(top, dest, ctx.tick) : { commit: null, branch: null };
  if (!top) await mkdir(dest, { recursive: true });
  const copied = await copyTree(ctx.home, root, dest, listing.entries, ctx.tick);
  if (copied.unreadable.length > 0) {
    throw refuse(
      `cannot read ${copied.unreadable.length} file(s) of the project: ${copied.unreadable.slice(0, 5).join(', ')}${copied.unreadable.length > 5 ? ', …' : ''}; ` +
        `fix their permissions${top ? ' or add them to .gitignore' : ''}`,
    );
  }
  if (top) await indexFromHead(dest, ctx.tick);
  const sub = relative(root, real);
  await mkdir(join(dest, sub), { recursive: true });
  return {
    record: record(ctx, { kind: 'path', path: real, gitTopLevel: top }, sub, gitState, listing, copied.files, source.deliver),
    files: copied.files,
    newBytes: copied.newBytes,
  };
}

/**
 * The top of the git work tree holding `dir` (null: none). A repository git refuses to read
 * because another user owns it is refused too: copied as a plain directory, it would lose git's
 * rules (its ignored files, secrets included, would be copied) and its history.
 */
async function workTreeTop(dir: string, given: string): Promise<string | null> {
  const top = await gitTopLevel(dir);
  if (top !== null) return top;
  const probe = await git(['rev-parse', '--git-dir'], { cwd: dir, okCodes: [128] }).catch(() => undefined);
  const foreign = probe?.stderr.match(/dubious ownership in repository at '([^']*)'/);
  if (foreign) {
    throw refuse(
      `--from ${given}: git refuses to read the repository at ${foreign[1]}: it belongs to another user than the one the worker runs as; ` +
        `run the worker as its owner, or mark it safe for the worker's user: git config --global --add safe.directory ${foreign[1]}`,
    );
  }
  return null;
}

async function fromGit(source: ProjectSource & { gitUrl: string }, ctx: ImportContext): Promise<ImportedProject> {
  const dest = join(ctx.stagingDir, PROJECT_DIR);
  const shown = redactUrl(source.gitUrl);
  let gitState: GitState;
  try {
    gitState = await cloneFromUrl(source.gitUrl, source.ref, dest, ctx.tick);
  } catch (err) {
    if (err instanceof RefNotFound) throw refuse(`--from-git ${shown}#${source.ref}: ${err.message}; name an existing branch, tag or commit`);
    if (err instanceof GitError)
      throw refuse(`--from-git ${shown}: the repository could not be cloned (${gitComplaint(err.stderr)}); check the URL and that the worker can reach it`);
    throw err;
  }
  const listing = await listSource(dest, true, ctx.tick);
  checkLimits(listing, `the repository ${shown}`);
  // The clone checked out every link; those pointing outside the project leave the copy, as with --from.
  for (const link of listing.skippedLinks) await rm(join(dest, link), { force: true });
  const copied = await copyTree(ctx.home, dest, null, listing.entries, ctx.tick);
  return {
    record: record(ctx, { kind: 'git', url: shown, ref: source.ref ?? null }, '', gitState, listing, copied.files, source.deliver),
    files: copied.files,
    newBytes: copied.newBytes,
  };
}

/** What git said went wrong: its `fatal:`/`error:` lines (its last line is often advice, e.g. "and the repository exists."). */
function gitComplaint(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /^(fatal|error):/.test(l));
  return (errors.length > 0 ? errors : lines.slice(-1)).join('; ') || 'no message';
}

function record(
  ctx: ImportContext,
  source: ProjectRecord['source'],
  sub: string,
  gitState: GitState,
  listing: SourceListing,
  files: BaseFile[],
  deliver: ProjectRecord['deliver'],
): ProjectRecord {
  const root = join(ctx.runDir, PROJECT_DIR);
  return {
    root,
    workdir: sub ? join(root, ...sub.split(sep)) : root,
    source,
    commit: gitState.commit,
    branch: gitState.branch,
    files: files.length,
    bytes: listing.bytes,
    skippedLinks: listing.skippedLinks,
    deliver,
  };
}

export function importProject(source: ProjectSource, ctx: ImportContext): Promise<ImportedProject> {
  return source.path !== undefined ? fromPath(source as ProjectSource & { path: string }, ctx) : fromGit(source as ProjectSource & { gitUrl: string }, ctx);
}
