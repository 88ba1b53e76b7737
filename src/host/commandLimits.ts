/**
 * Per-command resource limits of the shell tool (docs/behaviour.md §7.3), from the worker's
 * environment: INFTY_COMMAND_MAX_PROCS (RLIMIT_NPROC) and INFTY_COMMAND_MAX_MEMORY (RLIMIT_DATA).
 * Read by config (a bad value stops the worker) and by the shell tool.
 */

export interface CommandLimits {
  /** RLIMIT_NPROC: processes and threads of the worker's user beyond which a command cannot fork; undefined: none. */
  maxProcs?: number;
  /** RLIMIT_DATA in bytes: heap and private mappings of each process of a command; undefined: none. */
  maxMemoryBytes?: number;
}

/**
 * In the project's image (INFTY_IN_IMAGE), where the worker's user runs nothing else. RLIMIT_NPROC
 * counts every process and thread of the worker's user, so on a workstation, where that user's
 * browser and editor alone can hold thousands of threads, a fixed number would stop ordinary
 * commands from forking: there the default is no process limit.
 */
export const DEFAULT_COMMAND_MAX_PROCS = 1024;
export const DEFAULT_COMMAND_MAX_MEMORY = '4g';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `null` for a valid "no limit" (0), the number, or an error message. */
function parseMaxProcs(value: string): number | null | string {
  if (!/^\d+$/.test(value)) return `INFTY_COMMAND_MAX_PROCS must be a whole number of processes (0: no limit), got "${value}"`;
  const n = Number(value);
  return n === 0 ? null : n;
}

function parseMemory(value: string): number | null | string {
  const m = /^(\d+)\s*([kmgt]?)i?b?$/i.exec(value.trim());
  if (!m) return `INFTY_COMMAND_MAX_MEMORY must be bytes or a size such as 512m or 4g (0: no limit), got "${value}"`;
  const bytes = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return bytes === 0 ? null : bytes;
}

/** The limits the environment asks for; throws an Error naming the variable when a value is malformed. */
export function commandLimitsFrom(env: NodeJS.ProcessEnv): CommandLimits {
  const procs = parseMaxProcs(env.INFTY_COMMAND_MAX_PROCS || (env.INFTY_IN_IMAGE ? String(DEFAULT_COMMAND_MAX_PROCS) : '0'));
  const memory = parseMemory(env.INFTY_COMMAND_MAX_MEMORY || DEFAULT_COMMAND_MAX_MEMORY);
  if (typeof procs === 'string') throw new Error(procs);
  if (typeof memory === 'string') throw new Error(memory);
  return { ...(procs === null ? {} : { maxProcs: procs }), ...(memory === null ? {} : { maxMemoryBytes: memory }) };
}
