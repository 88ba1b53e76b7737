/** The `shell` tool: runs a command (argv, no shell) inside the run directory. */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { ESCALATION_REQUEST, requestsEscalation } from '../../protocol/approval';
import { HEARTBEAT_EVERY_MS } from '../../protocol/heartbeat';
import { OutputCapture } from './capture';
import { limitCommand } from './commandLimits';
import { argsError, type ToolContext } from './context';
import { toolEnv } from './env';
import { errorResult, shellResult, type ToolResult } from './output';
import { canonicalRunDir, PathOutsideRunDirError, resolveInsideRunDir } from './paths';
import { guardCommand } from './processGuard';
import { wrapCommand } from './sandbox';
import type { ToolText } from './truncate';
import { findProgram } from './which';

export const DEFAULT_SHELL_TIMEOUT_MS = 60_000;
export const MAX_SHELL_TIMEOUT_MS = 600_000;
/** After the command exits, how long to wait for background processes still holding its output pipes. */
const IO_DRAIN_TIMEOUT_MS = 2_000;

export const ShellArgs = z.object({
  command: z.array(z.string()).min(1, 'must contain at least the program to run'),
  workdir: z.string().optional(),
  timeout_ms: z.number().int().positive().optional(),
  sandbox_permissions: z.enum(['use_default', ESCALATION_REQUEST]).optional(),
  justification: z.string().optional(),
});

/** An escalation no person approved (the policy is `never`, or the request could not be shown): refused, not run. */
export const ESCALATION_REFUSED =
  'this command asked to run outside the sandbox (sandbox_permissions "require_escalated"), and no person approved it: ' +
  "this run's approval policy refuses escalations (or the call was too large to show for approval). It was not run. " +
  'Run it without sandbox_permissions, or do the work without network access.';

function result(output: ToolText, exitCode: number, startedAt: number): ToolResult {
  const durationSeconds = Math.round((Date.now() - startedAt) / 100) / 10;
  return shellResult(output, { exit_code: exitCode, duration_seconds: durationSeconds });
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
 * context's sandbox, with an allow-listed environment. Returns a shell result — its output (not
 * yet scrubbed or truncated: finalizeToolOutput does both, and renders it as JSON
 * `{"output": ..., "metadata": {"exit_code": n, "duration_seconds": x}}`) — or an error result
 * for bad arguments and refusals.
 */
export async function shellTool(args: unknown, ctx: ToolContext): Promise<ToolResult> {
  const parsed = ShellArgs.safeParse(args);
  if (!parsed.success) return argsError('shell', parsed.error);
  const { command, workdir } = parsed.data;
  if (requestsEscalation(parsed.data) && !ctx.escalated) return errorResult(ESCALATION_REFUSED);
  if (!command[0]) return errorResult('invalid arguments for shell: command: the program (command[0]) must be a non-empty string');
  const timeoutMs = Math.min(parsed.data.timeout_ms ?? DEFAULT_SHELL_TIMEOUT_MS, MAX_SHELL_TIMEOUT_MS);

  const runDir = await canonicalRunDir(ctx.runDir);
  let cwd: string;
  try {
    cwd = await resolveInsideRunDir(runDir, workdir ?? '.', ctx.workdir);
  } catch (e) {
    if (e instanceof PathOutsideRunDirError) return errorResult(`workdir refused: ${e.message}`);
    throw e;
  }
  try {
    const st = await fs.stat(cwd);
    if (!st.isDirectory()) return errorResult(`workdir '${workdir}' is not a directory`);
  } catch {
    return errorResult(`workdir '${workdir}' does not exist`);
  }

  const startedAt = Date.now();
  if (ctx.signal?.aborted) return result('command aborted before it started\n', 130, startedAt);

  const env = toolEnv(ctx.sandbox, ctx.passEnv);
  let spawned: { file: string; args: string[] };
  if (ctx.sandbox === 'bwrap') {
    // An approved escalation gets network; writes stay confined to the run directory (docs/behaviour.md §7.8).
    spawned = wrapCommand('bwrap', command, { runDir, cwd, allowNetwork: ctx.allowNetwork || ctx.escalated === true });
  } else {
    // The guard would report a missing program in its own words; report it as spawn does.
    const program = findProgram(command[0], env.PATH ?? '/usr/bin:/bin', cwd);
    if (!('path' in program)) {
      const message = `failed to execute ${JSON.stringify(command[0])}: spawn ${command[0]} ${program.errno}\n`;
      return result(message, program.errno === 'ENOENT' ? 127 : 126, startedAt);
    }
    spawned = guardCommand(command[0], command.slice(1));
  }
  const { file, args: argv } = limitCommand(spawned.file, spawned.args);

  return new Promise<ToolResult>((resolve) => {
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
    }, HEARTBEAT_EVERY_MS);
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
      // Background processes that closed their output do not outlive the call (as under bwrap).
      killGroup(child);
      const elapsed = Date.now() - startedAt;
      if (aborted) {
        resolve(result(capture.text(`command aborted after ${elapsed} ms\n`), 130, startedAt));
        return;
      }
      if (timedOut) {
        resolve(result(capture.text(`command timed out after ${timeoutMs} ms\n`), 124, startedAt));
        return;
      }
      let code = exitCodeOf(exit?.code ?? null, exit?.signal ?? null);
      const output = capture.text('');
      // bwrap reports an unknown program itself (exit 1); report it like a shell would.
      if (ctx.sandbox === 'bwrap' && code === 1 && typeof output === 'string' && /^bwrap: execvp [^\n]*: No such file or directory\s*$/.test(output))
        code = 127;
      resolve(result(output, code, startedAt));
    };

    const onData = (chunk: Buffer): void => {
      capture.push(chunk);
      ctx.onOutput?.(chunk);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (child.pid !== undefined && exit === undefined) return; // a late error of a running child; 'close' follows
      settled = true;
      cleanup();
      const code = err.code === 'ENOENT' ? 127 : 126;
      resolve(result(`failed to execute ${JSON.stringify(file)}: ${err.message}\n`, code, startedAt));
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
