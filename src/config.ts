/** Environment configuration (docs/interface.md §4), read once per process. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from './errors';

export const DEFAULT_MODEL = 'gpt-5.1';

export interface InftyConfig {
  temporalAddress: string;
  temporalAddressExplicit: boolean;
  namespace: string;
  taskQueue: string;
  home: string;
  runsRoot: string;
  model: string;
  wireApi: 'responses' | 'chat';
  baseURL: string | undefined;
  apiKey: string | undefined;
  stream: boolean;
  /** Explicit INFTY_CONTEXT_WINDOW (else per model). */
  contextWindow: number | undefined;
  /** Explicit INFTY_AUTO_COMPACT_LIMIT (else 90% of the context window). */
  autoCompactLimit: number | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): InftyConfig {
  const home = resolve(env.INFTY_HOME || join(homedir(), '.infty'));
  const wire = (env.INFTY_WIRE_API || 'responses').toLowerCase();
  if (wire !== 'responses' && wire !== 'chat') {
    throw new UsageError(`INFTY_WIRE_API must be "responses" or "chat", got "${env.INFTY_WIRE_API}"`);
  }
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalAddressExplicit: Boolean(env.TEMPORAL_ADDRESS),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.INFTY_TASK_QUEUE || 'infty',
    home,
    runsRoot: resolve(env.INFTY_RUNS_ROOT || join(home, 'runs')),
    model: env.INFTY_MODEL || DEFAULT_MODEL,
    wireApi: wire,
    baseURL: env.OPENAI_BASE_URL || undefined,
    apiKey: env.OPENAI_API_KEY || undefined,
    stream: env.INFTY_STREAM !== '0' && env.INFTY_STREAM !== 'false',
    contextWindow: positiveInt(env.INFTY_CONTEXT_WINDOW, 'INFTY_CONTEXT_WINDOW'),
    autoCompactLimit: positiveInt(env.INFTY_AUTO_COMPACT_LIMIT, 'INFTY_AUTO_COMPACT_LIMIT'),
  };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got "${value}"`);
  return n;
}
