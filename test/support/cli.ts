/** Runs the real `infty` binary (bin/infty.js → dist) as a child process. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = join(__dirname, '..', '..', 'bin', 'infty.js');

export interface CliOptions {
  /** Sees the output as it arrives (e.g. to act once the command has printed something). */
  onStdout?: (soFar: string) => void;
  /** Run as this user and group id (HOME is then not passed on: it is the caller's). */
  asUser?: number;
}

export function runCli(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000, opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, ...(opts.asUser === undefined ? { HOME: process.env.HOME } : {}), TEMPORAL_CLI: process.env.TEMPORAL_CLI, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.asUser === undefined ? {} : { uid: opts.asUser, gid: opts.asUser }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout);
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`infty ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
