/** The environment tool processes get: an allow-list, never the worker's whole environment. */
import type { SandboxMode } from './sandbox';

export const BASE_ENV_NAMES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TMPDIR'] as const;

const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The allow-listed variables of `source` plus the ones named in `passEnv` (only those set in
 * `source`). Under bwrap TMPDIR is the sandbox's private /tmp.
 */
export function toolEnv(mode: SandboxMode, passEnv: readonly string[] = [], source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of [...BASE_ENV_NAMES, ...passEnv]) {
    if (!VALID_NAME.test(name)) continue;
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  if (mode === 'bwrap') env.TMPDIR = '/tmp';
  return env;
}
