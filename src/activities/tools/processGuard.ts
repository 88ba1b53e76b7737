/**
 * Unsandboxed commands must not outlive the worker. A command runs under `setpriv --pdeathsig TERM`
 * in a tiny bash guard whose TERM trap SIGKILLs the whole process group (the command and its
 * background children); bwrap mode gets the same from --die-with-parent and its pid namespace.
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
  const d = detect();
  if (!d.setpriv || !d.bash) {
    if (!warned) {
      warned = true;
      process.emitWarning(`unsandboxed commands may outlive a killed worker: ${d.detection.reason}`, { code: 'INFTY_NO_PROCESS_GUARD' });
    }
    return { file, args };
  }
  return {
    file: d.setpriv,
    args: ['--pdeathsig', 'TERM', '--', d.bash, '--posix', '-c', GUARD_SCRIPT, 'infty-guard', String(process.pid), file, ...args],
  };
}
