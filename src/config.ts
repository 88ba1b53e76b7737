/** Environment configuration (docs/interface.md §4), read once per process. */
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { UsageError } from './errors';
import { commandLimitsFrom } from './host/commandLimits';
import { temporalAuthFromEnv } from './host/temporalTls';

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
  /** INFTY_STORAGE: `local` (a run's activities follow the disk of the worker that created it) or `shared` (docs/architecture.md decision 12). */
  storage: 'local' | 'shared';
  /** INFTY_SANDBOX: `auto` (`infty worker` refuses to start without a working bubblewrap) or `none` (it starts anyway, and says so). */
  workerSandbox: 'auto' | 'none';
  /** INFTY_WORKER_ID: this worker's identity; in local storage its own task queue is `<INFTY_TASK_QUEUE>@<id>`. */
  workerId: string;
  /** INFTY_DEPLOYMENT_NAME and INFTY_BUILD_ID (`infty worker --build-id`): Worker Versioning, on when a build id is set. */
  deploymentName: string;
  buildId: string | undefined;
  /** INFTY_VERSIONING_BEHAVIOR (`pinned`, default, or `auto-upgrade`): the versioned worker's default for its runs (docs/architecture.md "Worker Versioning"). */
  versioningBehavior: 'PINNED' | 'AUTO_UPGRADE';
  /** INFTY_METRICS_PORT: the Temporal runtime's Prometheus endpoint (metrics off when unset). */
  metricsPort: number | undefined;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: OpenTelemetry traces (off when unset). */
  otlpEndpoint: string | undefined;
  /** TEMPORAL_TLS, TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME (src/host/temporalTls.ts); undefined: plaintext. */
  temporalTls: TLSConfig | undefined;
  /** INFTY_PRICES: a JSON file of model prices over the package's table (src/host/prices.ts), read by workers and `--cost-budget`. */
  pricesFile: string | undefined;
  /** TEMPORAL_API_KEY, sent as `authorization: Bearer …`; never printed. */
  temporalApiKey: string | undefined;
  /** INFTY_WORKER_ACTIVITY_SLOTS: activities one worker runs at once, per task queue (default in src/worker.ts). */
  workerActivitySlots: number | undefined;
  /** INFTY_WORKER_CACHED_RUNS: runs a worker keeps in its workflow cache (the SDK's default, from the heap size, when unset). */
  workerCachedRuns: number | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): InftyConfig {
  const home = resolve(env.INFTY_HOME || join(homedir(), '.infty'));
  const wire = (env.INFTY_WIRE_API || 'responses').toLowerCase();
  if (wire !== 'responses' && wire !== 'chat') {
    throw new UsageError(`INFTY_WIRE_API must be "responses" or "chat", got "${env.INFTY_WIRE_API}"`);
  }
  try {
    commandLimitsFrom(env); // read again by the shell tool; a malformed value stops the command here
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    // INFTY_EMBEDDED_PORT: where the embedded default listens (its Web UI 1000 above), e.g. beside another server on 7233.
    temporalAddress: env.TEMPORAL_ADDRESS || `127.0.0.1:${port(env.INFTY_EMBEDDED_PORT, 'INFTY_EMBEDDED_PORT') ?? 7233}`,
    temporalAddressExplicit: Boolean(env.TEMPORAL_ADDRESS),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.INFTY_TASK_QUEUE || 'infty',
    home,
    runsRoot: resolve(env.INFTY_RUNS_ROOT || join(home, 'runs')),
    model: env.INFTY_MODEL || DEFAULT_MODEL,
    pricesFile: env.INFTY_PRICES ? resolve(env.INFTY_PRICES) : undefined,
    wireApi: wire,
    baseURL: httpUrl(
      env.OPENAI_BASE_URL,
      'OPENAI_BASE_URL',
      "the model endpoint's base URL, e.g. http://localhost:8000/v1",
      'unset it for the default endpoint',
    ),
    apiKey: env.OPENAI_API_KEY || undefined,
    stream: env.INFTY_STREAM !== '0' && env.INFTY_STREAM !== 'false',
    contextWindow: positiveInt(env.INFTY_CONTEXT_WINDOW, 'INFTY_CONTEXT_WINDOW'),
    autoCompactLimit: positiveInt(env.INFTY_AUTO_COMPACT_LIMIT, 'INFTY_AUTO_COMPACT_LIMIT'),
    storage: storageMode(env.INFTY_STORAGE),
    workerSandbox: workerSandbox(env.INFTY_SANDBOX),
    workerId: workerIdentity(env.INFTY_WORKER_ID),
    deploymentName: deploymentName(env.INFTY_DEPLOYMENT_NAME || 'infty', 'INFTY_DEPLOYMENT_NAME'),
    buildId: env.INFTY_BUILD_ID ? buildId(env.INFTY_BUILD_ID, 'INFTY_BUILD_ID') : undefined,
    versioningBehavior: versioningBehavior(env.INFTY_VERSIONING_BEHAVIOR),
    metricsPort: port(env.INFTY_METRICS_PORT, 'INFTY_METRICS_PORT'),
    otlpEndpoint: httpUrl(
      env.OTEL_EXPORTER_OTLP_ENDPOINT,
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      "the collector's OTLP/HTTP base URL, e.g. http://collector:4318 (spans go to <endpoint>/v1/traces)",
      'unset it to turn traces off',
    ),
    workerActivitySlots: positiveInt(env.INFTY_WORKER_ACTIVITY_SLOTS, 'INFTY_WORKER_ACTIVITY_SLOTS'),
    workerCachedRuns: cachedRuns(env.INFTY_WORKER_CACHED_RUNS),
    ...temporalConnectionSettings(env),
  };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive whole number, got "${value}"`);
  return n;
}

/** The SDK takes 0 (no cache: every workflow task replays the run's whole history) or at least 2. */
function cachedRuns(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n === 1) {
    throw new UsageError(`INFTY_WORKER_CACHED_RUNS must be 0 (no workflow cache) or a whole number of at least 2, got "${value}"`);
  }
  return n;
}

function storageMode(value: string | undefined): 'local' | 'shared' {
  const mode = (value || 'local').toLowerCase();
  if (mode === 'local' || mode === 'shared') return mode;
  throw new UsageError(
    `INFTY_STORAGE must be "local" (each run stays on the disk of the worker that created it) or "shared" (INFTY_HOME and INFTY_RUNS_ROOT on storage every worker mounts), got "${value}"`,
  );
}

function workerSandbox(value: string | undefined): 'auto' | 'none' {
  const mode = (value || 'auto').toLowerCase();
  if (mode === 'auto' || mode === 'none') return mode;
  throw new UsageError(
    `INFTY_SANDBOX must be "auto" (the worker needs a working bubblewrap sandbox) or "none" (it may run without one: only runs started with --sandbox none), got "${value}"`,
  );
}

function workerIdentity(value: string | undefined): string {
  const id = value || hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) {
    throw new UsageError(`INFTY_WORKER_ID must be 1-100 letters, digits, ".", "_" or "-" (starting with a letter or digit), got "${id}"`);
  }
  return id;
}

function port(value: string | undefined, name: string): number | undefined {
  const n = positiveInt(value, name);
  if (n !== undefined && n > 65_535) throw new UsageError(`${name} must be a port number (1-65535), got "${value}"`);
  return n;
}

/** An http(s) URL from the environment (OPENAI_BASE_URL, OTEL_EXPORTER_OTLP_ENDPOINT); unset: undefined. */
function httpUrl(value: string | undefined, name: string, what: string, otherwise: string): string | undefined {
  if (!value) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return value;
  throw new UsageError(`${name} must be ${what}, got "${value}"; ${otherwise}`);
}

/** `infty worker --build-id/--deployment-name` over the environment's values. */
export function withVersioningFlags(config: InftyConfig, flags: { buildId?: string; deploymentName?: string }): InftyConfig {
  return {
    ...config,
    buildId: flags.buildId !== undefined ? buildId(flags.buildId, '--build-id') : config.buildId,
    deploymentName: flags.deploymentName !== undefined ? deploymentName(flags.deploymentName, '--deployment-name') : config.deploymentName,
  };
}

/** Temporal refuses a deployment name with "." (it separates name and build id) or starting with "__". */
function deploymentName(value: string, name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(value)) return value;
  throw new UsageError(`${name} must be 1-100 letters, digits, "_" or "-" (starting with a letter or digit), got "${value}"`);
}

function buildId(value: string, name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/.test(value)) return value;
  throw new UsageError(`${name} must be 1-200 letters, digits, ".", "_", "+" or "-" (starting with a letter or digit), got "${value}"`);
}

function versioningBehavior(value: string | undefined): 'PINNED' | 'AUTO_UPGRADE' {
  const v = (value || 'pinned').toLowerCase();
  if (v === 'pinned') return 'PINNED';
  if (v === 'auto-upgrade') return 'AUTO_UPGRADE';
  throw new UsageError(
    `INFTY_VERSIONING_BEHAVIOR must be "pinned" (a run finishes on the build it started on) or "auto-upgrade" (a run moves to the current build at its next workflow task), got "${value}"`,
  );
}

function temporalConnectionSettings(env: NodeJS.ProcessEnv): Pick<InftyConfig, 'temporalTls' | 'temporalApiKey'> {
  const { tls, apiKey } = temporalAuthFromEnv(env);
  return { temporalTls: tls, temporalApiKey: apiKey };
}
