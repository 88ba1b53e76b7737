/** Shared types and small helpers for the agent tools. */
import type { ZodError } from 'zod';
import { errorResult, type ToolResult } from './output';
import type { SandboxMode } from './sandbox';

export interface ToolContext {
  /** The run directory every tool is confined to. */
  runDir: string;
  /** Where relative paths and commands start (a project run's working directory, inside runDir); absent: runDir. */
  workdir?: string;
  sandbox: SandboxMode;
  allowNetwork: boolean;
  /** A person approved this call's escalation request: network access, writes still confined (docs/behaviour.md §7.8). */
  escalated?: boolean;
  /** Aborts a running tool (e.g. activity cancellation). */
  signal?: AbortSignal;
  /** Called periodically by long-running tools (Temporal activity heartbeat). */
  heartbeat?: () => void;
  /** Sees a command's output as it arrives (stdout and stderr as they interleave): the live view. */
  onOutput?: (chunk: Buffer) => void;
  /**
   * Names of worker environment variables commands also get, beyond the allow-list (PATH, HOME,
   * LANG, LC_ALL, LC_CTYPE, TERM, TMPDIR). From the run's input.
   */
  passEnv?: string[];
}

/** A zod error as an error result of one readable line: `invalid arguments for shell: command: expected array, received undefined`. */
export function argsError(tool: string, error: ZodError): ToolResult {
  const parts = error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(arguments)';
    const message = issue.message.replace(/^Invalid input: /, '');
    return `${where}: ${message}`;
  });
  return errorResult(`invalid arguments for ${tool}: ${parts.join('; ')}`);
}

/** True for Node's system errors (ENOENT, EACCES, ...), which are reported to the model as error results. */
export function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && 'syscall' in e;
}

/** A short description of a filesystem error for the model. */
export function describeFsError(e: NodeJS.ErrnoException, displayPath: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `${displayPath}: no such file or directory`;
    case 'EACCES':
    case 'EPERM':
      return `${displayPath}: permission denied`;
    case 'ENOTDIR':
      return `${displayPath}: a path component is not a directory`;
    case 'EISDIR':
      return `${displayPath}: is a directory`;
    case 'ELOOP':
      return `${displayPath}: too many levels of symbolic links`;
    default:
      return `${displayPath}: ${e.code}: ${e.message}`;
  }
}
