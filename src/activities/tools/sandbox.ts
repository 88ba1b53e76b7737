/** Optional bubblewrap sandbox for shell commands. */
import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxDetection } from '../../host/sandboxAdvice';
import { isInside } from './paths';

export type { SandboxDetection };

export type SandboxMode = 'bwrap' | 'none';

export interface WrapOptions {
  /** Canonical run directory: the only writable host path. */
  runDir: string;
  /** Working directory of the command (inside runDir). */
  cwd: string;
  allowNetwork: boolean;
  /** Host paths the command must not see (default: hiddenPaths()). */
  hide?: string[];
}

/** Credential stores under the worker's HOME. */
const HOME_SECRETS = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.kube',
  '.docker',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.config/gcloud',
  '.config/gh',
  '.codex',
  '.temporalio',
  '.config/temporalio',
];

/**
 * Where the worker keeps state and secrets: INFTY_HOME (transcripts, journals, the Temporal
 * database), INFTY_RUNS_ROOT (other runs) and the usual credential stores in HOME.
 */
export function hiddenPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || os.homedir();
  const inftyHome = path.resolve(env.INFTY_HOME || path.join(home, '.infty'));
  return [inftyHome, path.resolve(env.INFTY_RUNS_ROOT || path.join(inftyHome, 'runs')), ...HOME_SECRETS.map((p) => path.join(home, p))];
}

let detection: Promise<SandboxDetection> | undefined;

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await fs.access(candidate, fsConstants.X_OK);
      const st = await fs.stat(candidate);
      if (st.isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A fresh directory to stand for a run directory; the temporary directory itself when none can be made. */
function scratchRunDir(): { path: string; remove(): void } {
  try {
    const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-sandbox-probe-')));
    return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch {
    return { path: realpathSync(os.tmpdir()), remove: () => undefined };
  }
}

/**
 * Runs `true` in exactly the sandbox a shell command gets (wrapCommand, over a scratch run
 * directory), so whatever would make a command's bwrap fail makes the probe fail.
 */
async function probe(): Promise<SandboxDetection> {
  const bwrap = await findOnPath('bwrap');
  if (!bwrap) return { available: false, problem: 'not-installed', reason: 'bwrap (bubblewrap) was not found on PATH' };
  const scratch = scratchRunDir();
  const { args } = wrapCommand('bwrap', ['true'], { runDir: scratch.path, cwd: scratch.path, allowNetwork: false });
  return new Promise<SandboxDetection>((resolve) => {
    execFile(bwrap, args, { timeout: 10_000 }, (error, _stdout, stderr) => {
      scratch.remove();
      if (!error) {
        resolve({ available: true, bwrap });
        return;
      }
      const detail = String(stderr).trim() || error.message;
      resolve({
        available: false,
        problem: 'cannot-sandbox',
        bwrap,
        detail,
        reason: `bwrap is installed (${bwrap}) but cannot create a sandbox here: ${detail}`,
      });
    });
  });
}

/** Whether bubblewrap is usable on this machine (probed once, then cached). */
export function detectSandbox(): Promise<SandboxDetection> {
  detection ??= probe();
  return detection;
}

/**
 * bwrap arguments that mask each existing hidden path: an empty read-only tmpfs over a
 * directory, an unreadable /dev/null (bound nodev) over a file. Paths inside the run dir are
 * masked after it is bound, the others before (and made read-only after), so the run dir stays
 * visible and writable even when it lies under a hidden directory (INFTY_HOME/runs/<id>).
 */
function maskArgs(hide: string[], runDir: string): { before: string[]; after: string[] } {
  const before: string[] = [];
  const after: string[] = [];
  for (const p of new Set(hide)) {
    let real: string;
    let isDir: boolean;
    try {
      real = realpathSync(p);
      isDir = statSync(real).isDirectory();
    } catch {
      continue; // nothing there to hide
    }
    if (real === '/' || real === '/tmp' || real === runDir) continue; // / and /tmp: hiding them is nonsense; /tmp is private anyway
    const inside = isInside(runDir, real);
    if (!isDir) {
      (inside ? after : before).push('--ro-bind', '/dev/null', real);
      continue;
    }
    if (inside) {
      after.push('--tmpfs', real, '--remount-ro', real);
    } else {
      before.push('--tmpfs', real);
      after.push('--remount-ro', real);
    }
  }
  return { before, after };
}

/**
 * The program and arguments that run `command` under the given sandbox mode.
 * bwrap: the whole filesystem read-only, the worker's state and credential stores hidden, a
 * private /tmp, the run dir writable, fresh /dev and /proc, private PID and IPC namespaces, no
 * network unless allowed, dies with its parent.
 */
export function wrapCommand(mode: SandboxMode, command: string[], opts: WrapOptions): { file: string; args: string[] } {
  if (command.length === 0 || !command[0]) throw new Error('wrapCommand: empty command');
  if (mode === 'none') return { file: command[0], args: command.slice(1) };
  const mask = maskArgs(opts.hide ?? hiddenPaths(), opts.runDir);
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    ...mask.before,
    // After the tmpfs and masks, so a run dir under /tmp or INFTY_HOME is still the host's (writable) directory.
    '--bind',
    opts.runDir,
    opts.runDir,
    ...mask.after,
    ...(opts.allowNetwork ? [] : ['--unshare-net']),
    '--unshare-pid',
    '--unshare-ipc',
    '--die-with-parent',
    '--new-session',
    '--setenv',
    'TMPDIR',
    '/tmp',
    '--chdir',
    opts.cwd,
    '--',
    ...command,
  ];
  return { file: 'bwrap', args };
}
