/** Running real git (docs/architecture.md decision 14): plumbing with fixed, user-independent output settings. */
import { spawn } from 'node:child_process';

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(
      `git ${args
        .filter((a) => !a.startsWith('-c'))
        .slice(0, 3)
        .join(' ')} failed${code === null ? '' : ` (exit ${code})`}: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`,
    );
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd?: string;
  /** Extra environment (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE…). */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Exit codes that are not failures (e.g. 1 for `diff --quiet`). */
  okCodes?: number[];
  /** Called while git runs (long clones heartbeat). */
  onTick?: () => void;
  signal?: AbortSignal;
}

/** Settings that make output independent of the user's configuration (colors, pagers, quoting, external diff tools). */
const FIXED = ['-c', 'core.quotepath=false', '-c', 'color.ui=false', '-c', 'core.pager=cat', '-c', 'diff.external=', '-c', 'core.fsmonitor=false'];

export async function git(args: string[], opts: GitOptions = {}): Promise<{ stdout: Buffer; code: number; stderr: string }> {
  const full = [...FIXED, ...args];
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C', ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn('git', full, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    const out: Buffer[] = [];
    let err = '';
    const tick = opts.onTick ? setInterval(opts.onTick, 1000) : undefined;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 64 * 1024) err += d.toString('utf8');
    });
    child.on('error', (e) => {
      if (tick) clearInterval(tick);
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new GitError(args, null, 'the git program was not found on PATH; install git') : e);
    });
    child.on('close', (code) => {
      if (tick) clearInterval(tick);
      const c = code ?? -1;
      if (c === 0 || opts.okCodes?.includes(c)) resolve({ stdout: Buffer.concat(out), code: c, stderr: err });
      else reject(new GitError(args, code, err));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export async function gitText(args: string[], opts: GitOptions = {}): Promise<string> {
  return (await git(args, opts)).stdout.toString('utf8').trim();
}

/** The top level of the git work tree containing `dir`, or null when `dir` is not inside one. */
export async function gitTopLevel(dir: string): Promise<string | null> {
  try {
    const r = await git(['rev-parse', '--show-toplevel'], { cwd: dir });
    const top = r.stdout.toString('utf8').trim();
    return top || null;
  } catch {
    return null;
  }
}

/** The commit HEAD names, or null in a repository without commits. */
export async function headCommit(dir: string, env?: Record<string, string>): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: dir, env, okCodes: [1] });
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/** The branch HEAD is on, or null when detached (or no repository). */
export async function headBranch(dir: string): Promise<string | null> {
  const r = await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: dir, okCodes: [1, 128] });
  return r.code === 0 ? r.stdout.toString('utf8').trim() || null : null;
}

/** NUL-separated output → entries. */
export function nulList(buf: Buffer): string[] {
  return buf.toString('utf8').split('\0').filter(Boolean);
}
