/** Optional bubblewrap sandbox for shell commands. */
import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';

export type SandboxMode = 'bwrap' | 'none';

export interface SandboxDetection {
  available: boolean;
  reason?: string;
}

export interface WrapOptions {
  /** Canonical run directory: the only writable host path. */
  runDir: string;
  /** Working directory of the command (inside runDir). */
  cwd: string;
  allowNetwork: boolean;
}

const BWRAP_PROBE_ARGS = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-net', '--die-with-parent', 'true'];

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

async function probe(): Promise<SandboxDetection> {
  const bwrap = await findOnPath('bwrap');
  if (!bwrap) return { available: false, reason: 'bwrap (bubblewrap) was not found on PATH' };
  return new Promise<SandboxDetection>((resolve) => {
    execFile(bwrap, BWRAP_PROBE_ARGS, { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve({ available: true });
        return;
      }
      const detail = String(stderr).trim() || error.message;
      resolve({ available: false, reason: `bwrap is installed (${bwrap}) but cannot create a sandbox here: ${detail}` });
    });
  });
}

/** Whether bubblewrap is usable on this machine (probed once, then cached). */
export function detectSandbox(): Promise<SandboxDetection> {
  detection ??= probe();
  return detection;
}

/** Forgets the cached detection (tests). */
export function resetSandboxDetection(): void {
  detection = undefined;
}

/**
 * The program and arguments that run `command` under the given sandbox mode.
 * bwrap: the whole filesystem read-only, a private /tmp, the run dir writable, fresh /dev and
 * /proc, a private PID namespace, no network unless allowed, dies with its parent.
 */
export function wrapCommand(mode: SandboxMode, command: string[], opts: WrapOptions): { file: string; args: string[] } {
  if (command.length === 0 || !command[0]) throw new Error('wrapCommand: empty command');
  if (mode === 'none') return { file: command[0], args: command.slice(1) };
  const args = [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    // After the tmpfs, so a run dir under /tmp is still the host's (writable) directory.
    '--bind', opts.runDir, opts.runDir,
    ...(opts.allowNetwork ? [] : ['--unshare-net']),
    '--unshare-pid',
    '--die-with-parent',
    '--new-session',
    '--setenv', 'TMPDIR', '/tmp',
    '--chdir', opts.cwd,
    '--',
    ...command,
  ];
  return { file: 'bwrap', args };
}
