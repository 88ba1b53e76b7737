/**
 * A node child process running a snippet of JavaScript that may require the project's TypeScript
 * sources (see tsRequire.cjs), for tests that kill a process inside src/ code. Only the process
 * started here is ever signalled, by its own PID.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface NodeChild {
  /** Resolves when the child has printed `line` on stdout (rejects if it exits first). */
  printed(line: string): Promise<void>;
  exited: Promise<ChildExit>;
  kill(): void;
}

/** Starts `node -e code` in the repository root; `require('./src/...')` works in `code`. */
export function startNodeChild(code: string, env: Record<string, string> = {}): NodeChild {
  const child = spawn(process.execPath, ['-r', './test/unit/support/tsRequire.cjs', '-e', code], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<ChildExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    exited,
    printed: (line) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout.split('\n').includes(line)) resolve();
        };
        child.stdout.on('data', check);
        check();
        void exited.then((e) => reject(new Error(`child exited (code ${e.code}, signal ${e.signal}) before printing ${line}:\n${e.stderr}`)));
      }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
  };
}

/** Runs `node -e code` to its end. */
export function runNodeChild(code: string, env: Record<string, string> = {}): Promise<ChildExit> {
  return startNodeChild(code, env).exited;
}
