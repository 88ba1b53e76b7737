/** The `shell` tool: runs a command (argv, no shell) inside the run directory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { formatArgsError, type ToolContext } from './context';
import { canonicalRunDir, PathOutsideRunDirError, resolveInsideRunDir } from './paths';
import { wrapCommand } from './sandbox';
import { countLines, truncateHeadTail, truncateToolOutput } from './truncate';

export const DEFAULT_SHELL_TIMEOUT_MS = 60_000;
export const MAX_SHELL_TIMEOUT_MS = 600_000;
const HEARTBEAT_INTERVAL_MS = 2_000;
/** After the command exits, how long to wait for background processes still holding its output pipes. */
const IO_DRAIN_TIMEOUT_MS = 2_000;
/** Output kept in memory from each end; anything in between is dropped as it streams. */
const CAPTURE_HEAD_BYTES = 1 << 20;
const CAPTURE_TAIL_BYTES = 1 << 20;

export const ShellArgs = z.object({
  command: z.array(z.string()).min(1, 'must contain at least the program to run'),
  workdir: z.string().optional(),
  timeout_ms: z.number().int().positive().optional(),
});

/** Interleaved stdout+stderr, bounded: keeps the first and last megabyte, counts everything. */
class OutputCapture {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  private newlines = 0;
  private lastByte = -1;
  total = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) this.newlines++;
    this.lastByte = chunk[chunk.length - 1]!;
    if (this.headBytes < CAPTURE_HEAD_BYTES) {
      const take = Math.min(chunk.length, CAPTURE_HEAD_BYTES - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0]!.length >= CAPTURE_TAIL_BYTES) {
      const first = this.tail.shift()!;
      this.tailBytes -= first.length;
      this.dropped += first.length;
    }
  }

  /** The output as the model sees it (already truncated). */
  render(prefix: string): string {
    if (this.dropped === 0) return truncateToolOutput(prefix + Buffer.concat([...this.head, ...this.tail]).toString('utf8'));
    // The prefix is empty or a whole line.
    const lines = countLines(prefix) + this.newlines + (this.lastByte === 0x0a ? 0 : 1);
    return truncateHeadTail(Buffer.concat([Buffer.from(prefix, 'utf8'), ...this.head]), Buffer.concat(this.tail), this.dropped, lines);
  }
}

function result(output: string, exitCode: number, startedAt: number): string {
  const durationSeconds = Math.round((Date.now() - startedAt) / 100) / 10;
  return JSON.stringify({ output, metadata: { exit_code: exitCode, duration_seconds: durationSeconds } });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (os.constants.signals[signal] ?? 0);
  return -1;
}

/**
 * Runs `args.command` (argv, no shell) in `args.workdir` (default: the run dir) under the
 * context's sandbox. Returns JSON `{"output": ..., "metadata": {"exit_code": n, "duration_seconds": x}}`,
 * or an error text for bad arguments.
 */
export async function runShell(args: unknown, ctx: ToolContext): Promise<string> {
  const parsed = ShellArgs.safeParse(args);
  if (!parsed.success) return formatArgsError('shell', parsed.error);
  const { command, workdir } = parsed.data;
  if (!command[0]) return 'Error: invalid arguments for shell: command: the program (command[0]) must be a non-empty string';
  const timeoutMs = Math.min(parsed.data.timeout_ms ?? DEFAULT_SHELL_TIMEOUT_MS, MAX_SHELL_TIMEOUT_MS);

  const runDir = await canonicalRunDir(ctx.runDir);
  let cwd: string;
  try {
    cwd = await resolveInsideRunDir(runDir, workdir ?? '.');
  } catch (e) {
    if (e instanceof PathOutsideRunDirError) return `Error: workdir refused: ${e.message}`;
    throw e;
  }
  try {
    const st = await fs.stat(cwd);
    if (!st.isDirectory()) return `Error: workdir '${workdir}' is not a directory`;
  } catch {
    return `Error: workdir '${workdir}' does not exist`;
  }

  const startedAt = Date.now();
  if (ctx.signal?.aborted) return result('command aborted before it started\n', 130, startedAt);

  const { file, args: argv } = wrapCommand(ctx.sandbox, command, { runDir, cwd, allowNetwork: ctx.allowNetwork });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (ctx.sandbox === 'bwrap') env.TMPDIR = '/tmp';

  return new Promise<string>((resolve) => {
    const capture = new OutputCapture();
    let settled = false;
    let timedOut = false;
    let aborted = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

    const heartbeatTimer = setInterval(() => {
      try {
        ctx.heartbeat?.();
      } catch {
        // heartbeat failures are not the command's problem
      }
    }, HEARTBEAT_INTERVAL_MS);
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup(child);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = (): void => {
      clearInterval(heartbeatTimer);
      clearTimeout(timeoutTimer);
      if (drainTimer) clearTimeout(drainTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
    };

    const finish = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      const elapsed = Date.now() - startedAt;
      if (aborted) {
        resolve(result(capture.render(`command aborted after ${elapsed} ms\n`), 130, startedAt));
        return;
      }
      if (timedOut) {
        resolve(result(capture.render(`command timed out after ${timeoutMs} ms\n`), 124, startedAt));
        return;
      }
      let code = exitCodeOf(exit?.code ?? null, exit?.signal ?? null);
      const rendered = capture.render('');
      // bwrap reports an unknown program itself (exit 1); report it like a shell would.
      if (ctx.sandbox === 'bwrap' && code === 1 && /^bwrap: execvp [^\n]*: No such file or directory\s*$/.test(rendered)) code = 127;
      resolve(result(rendered, code, startedAt));
    };

    child.stdout?.on('data', (chunk: Buffer) => capture.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => capture.push(chunk));

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (child.pid !== undefined && exit === undefined) return; // a late error of a running child; 'close' follows
      settled = true;
      cleanup();
      const code = err.code === 'ENOENT' ? 127 : 126;
      resolve(result(truncateToolOutput(`failed to execute ${JSON.stringify(file)}: ${err.message}\n`), code, startedAt));
    });

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Background processes may keep the pipes open; do not wait for them forever.
      drainTimer = setTimeout(() => {
        killGroup(child);
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, IO_DRAIN_TIMEOUT_MS);
    });

    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
