/**
 * Unsandboxed commands and stdio MCP servers must not outlive the worker. Each runs under
 * `setpriv --pdeathsig TERM` in a tiny bash guard whose TERM trap SIGKILLs the whole process group
 * (the command and its background children); bwrap mode gets the same from --die-with-parent and
 * its pid namespace.
 */
import { findProgram } from './which';

export interface ProcessGuardDetection {
  available: boolean;
  reason?: string;
}

// Runs as `bash -c GUARD infty-guard <worker pid> <command...>`.
// - The PPID check closes the race of a worker dying before setpriv armed the death signal.
// - Async commands of a non-interactive shell ignore INT and QUIT; `trap -` restores them.
// - The guard's own stderr goes to /dev/null (bash reports e.g. "Segmentation fault" for a
//   signalled job); the command keeps the real stderr through fd 3.
// - The exit status is the command's (128+n when a signal killed it, as reported without a guard).
const GUARD_SCRIPT = [
  `trap 'kill -KILL 0' TERM`,
  `[ "$PPID" = "$1" ] || kill -KILL 0`,
  `shift`,
  `exec 3>&2 2>/dev/null`,
  `(trap - INT QUIT; exec "$@" 2>&3 3>&-) &`,
  `wait $!`,
].join('\n');

// An MCP server's guard (`bash -c SERVER_GUARD infty-guard <worker pid> <command...>`), spawned
// by the MCP SDK in the worker's own process group: `set -m` gives the server a process group of
// its own to kill (not the worker's), and, job control being on, lets it keep the guard's stdin
// (the protocol pipe) instead of /dev/null. The trap is set first, so a TERM at any point is obeyed.
// `--norc` for both: with a socket as stdin (Node's pipes are socketpairs) bash would otherwise
// take itself for a remote shell and source ~/.bashrc, which may change PATH and more.
const SERVER_GUARD_SCRIPT = [
  `trap '[ -n "$job" ] && kill -KILL -"$job"; exit 143' TERM`,
  `[ "$PPID" = "$1" ] || exit 143`,
  `shift`,
  `exec 3>&2 2>/dev/null`,
  `set -m`,
  `"$@" 2>&3 3>&- &`,
  `job=$!`,
  `wait "$job"`,
].join('\n');

let detected: { detection: ProcessGuardDetection; setpriv?: string; bash?: string } | undefined;
let warned = false;

function detect(): NonNullable<typeof detected> {
  if (detected) return detected;
  const setpriv = findProgram('setpriv', process.env.PATH, '/');
  const bash = findProgram('bash', process.env.PATH, '/');
  if (!('path' in setpriv)) {
    detected = { detection: { available: false, reason: 'setpriv (util-linux) was not found on PATH' } };
  } else if (!('path' in bash)) {
    detected = { detection: { available: false, reason: 'bash was not found on PATH' } };
  } else {
    detected = { detection: { available: true }, setpriv: setpriv.path, bash: bash.path };
  }
  return detected;
}

/** Whether unsandboxed commands can be tied to the worker's lifetime here (probed once). */
export function detectProcessGuard(): ProcessGuardDetection {
  return detect().detection;
}

/** Forgets the cached detection (tests). */
export function resetProcessGuardDetection(): void {
  detected = undefined;
  warned = false;
}

/**
 * The program and arguments that run `file args` so that it dies with this process. Without
 * setpriv/bash the command runs as is, and a warning says once that it may outlive the worker.
 */
export function guardCommand(file: string, args: string[]): { file: string; args: string[] } {
  return guarded(GUARD_SCRIPT, file, args);
}

/**
 * The same for a stdio MCP server, which is spawned in the worker's process group and speaks
 * over its stdin and stdout (docs/behaviour.md §7.6).
 */
export function guardServerCommand(file: string, args: string[]): { file: string; args: string[] } {
  return guarded(SERVER_GUARD_SCRIPT, file, args);
}

function guarded(script: string, file: string, args: string[]): { file: string; args: string[] } {
  const d = detect();
  if (!d.setpriv || !d.bash) {
    if (!warned) {
      warned = true;
      process.emitWarning(`unsandboxed commands and stdio MCP servers may outlive a killed worker: ${d.detection.reason}`, { code: 'INFTY_NO_PROCESS_GUARD' });
    }
    return { file, args };
  }
  return {
    file: d.setpriv,
    args: ['--pdeathsig', 'TERM', '--', d.bash, '--norc', '--posix', '-c', script, 'infty-guard', String(process.pid), file, ...args],
  };
}
