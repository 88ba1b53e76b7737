/** A command run as the foreground job of a new pseudo-terminal (`script`), as a user types it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { BIN } from './workerProcess';

export interface Terminal {
  child: ChildProcess;
  output(): string;
  type(text: string): void;
  exited: Promise<{ code: number | null; at: number }>;
  /** The infty process (the direct child of `script`, which execs it). */
  inftyPid(): number | undefined;
}

/** `infty ARGS` as the foreground job of a new pseudo-terminal. */
export function inTerminal(args: string[], env: Record<string, string>): Terminal {
  const command = ['exec', process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_CLI: process.env.TEMPORAL_CLI, SHELL: '/bin/sh', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
  return {
    child,
    output: () => out,
    type: (text) => child.stdin!.write(text),
    exited,
    inftyPid: () => childrenOf(child.pid!)[0],
  };
}

export function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`, { withFileTypes: true })) {
    const file = `/proc/${pid}/task/${task.name}/children`;
    if (existsSync(file)) kids.push(...readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number));
  }
  return kids;
}
