/**
 * Runs a shell command under its resource limits (src/host/commandLimits.ts) with util-linux's
 * `prlimit`, which sets them on itself and execs the command: they hold for bwrap and everything
 * inside it, or for the process guard of an unsandboxed command, and for every child.
 */
import { type CommandLimits, commandLimitsFrom } from '../../host/commandLimits';
import { findProgram } from './which';

let prlimit: { path: string } | { missing: true } | undefined;
let warned = false;

/** `file args` under `limits` (default: the worker's environment); as is when there is nothing to limit. */
export function limitCommand(file: string, args: string[], limits: CommandLimits = commandLimitsFrom(process.env)): { file: string; args: string[] } {
  const options = [
    ...(limits.maxProcs !== undefined ? [`--nproc=${limits.maxProcs}`] : []),
    ...(limits.maxMemoryBytes !== undefined ? [`--data=${limits.maxMemoryBytes}`] : []),
  ];
  if (options.length === 0) return { file, args };
  if (!prlimit) {
    const found = findProgram('prlimit', process.env.PATH, '/');
    prlimit = 'path' in found ? { path: found.path } : { missing: true };
  }
  if ('missing' in prlimit) {
    if (!warned) {
      warned = true;
      process.emitWarning('shell commands run without process and memory limits: prlimit (util-linux) was not found on PATH', {
        code: 'INFTY_NO_COMMAND_LIMITS',
      });
    }
    return { file, args };
  }
  return { file: prlimit.path, args: [...options, '--', file, ...args] };
}
