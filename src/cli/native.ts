/**
 * The native connection of commands that may run a worker in this process (run, create, demo,
 * worker): one NativeConnection per command, shared by the client and the worker, closed when the
 * command ends. Commands that only talk to Temporal use a client connection (embedded.ts) and never
 * load the worker's modules, so they start faster.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { InftyClient, unreachableMessage } from '../client';
import type { InftyConfig } from '../config';
import { SdkLogger, workerLogFile } from '../host/sdkLogger';
import { isSearchAttributePending, SEARCH_ATTRIBUTE_WAIT_MS } from '../host/searchAttributeWait';
import { temporalConnectFailure } from '../host/temporalConnectFailure';
import { temporalFailure, temporalFailureKind, temporalStatusOf } from '../host/temporalErrors';
import { GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from '../protocol/names';
import { ensureSearchAttributes } from '../server';
import { type InftyWorker, runtimeTelemetry } from '../worker';
import { connectOptions, note } from './session';

/** The typed client over a connection from connectNative (closing the client closes it). */
export function clientOver(connection: NativeConnection, config: InftyConfig): InftyClient {
  return InftyClient.over(connection, connectOptions(config));
}

/** A connection a worker can run on; an UnreachableError when Temporal does not answer within `timeoutMs`. */
export async function connectNative(config: InftyConfig, timeoutMs = 5_000): Promise<NativeConnection> {
  quietRuntime(config);
  const connecting = NativeConnection.connect({ address: config.temporalAddress, tls: config.temporalTls ?? false, apiKey: config.temporalApiKey });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Failed to connect before the deadline')), timeoutMs);
  });
  try {
    return await Promise.race([connecting, deadline]);
  } catch (err) {
    connecting.then(
      (late) => late.close(),
      () => undefined,
    ); // a connection that comes too late is closed
    throw await temporalConnectFailure(config, err, unreachableMessage(config.temporalAddress, transportReason(err)));
  } finally {
    clearTimeout(timer);
  }
}

/** The OS's words in a native transport error (e.g. "Connection refused"), not its Rust debug dump. */
function transportReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!message.startsWith('tonic::')) return message;
  return [...message.matchAll(/"([^"]+)"/g)].pop()?.[1] ?? message;
}

/**
 * Registers the search attributes the namespace lacks and waits until Temporal applies them
 * (bounded, with a note while it waits). A namespace that does not exist, or a server that stops
 * answering, ends the command; any other failure is a note (e.g. a server that does not let this
 * client register them: runs still start once they exist).
 */
export async function registerSearchAttributes(connection: NativeConnection, config: InftyConfig): Promise<void> {
  try {
    await ensureSearchAttributes(connection, config.namespace, { onWaiting: note });
  } catch (err) {
    const failure = temporalFailure(err, config);
    const status = temporalStatusOf(err);
    if (failure && status && ['namespace-missing', 'unreachable'].includes(temporalFailureKind(status))) throw failure;
    if (isSearchAttributePending(err)) {
      note(
        `Temporal at ${config.temporalAddress} still does not apply the search attributes of namespace ${config.namespace} after ${SEARCH_ATTRIBUTE_WAIT_MS / 1000} s; ` +
          'runs started before it does are refused (each start retries for as long)',
      );
      return;
    }
    note(
      `could not register search attributes (${status?.message ?? (err as Error).message}); ` +
        `register ${GOAL_STATUS_KEY.name} and ${PHASE_KEY.name} (Keyword) and ${TOKENS_USED_KEY.name} (Int) on the namespace`,
    );
  }
}

let runtimeReady = false;
/** The logger of this process's Runtime (set by quietRuntime). */
let sdkLogger: SdkLogger | undefined;
/**
 * Warnings only (debug with INFTY_LOG_LEVEL=debug), no signal handling until a worker runs here,
 * and with INFTY_METRICS_PORT the Prometheus endpoint (docs/interface.md §14); a
 * port already taken (e.g. by a worker on this host) turns metrics off for this process, with a note.
 */
function quietRuntime(config: InftyConfig): void {
  if (runtimeReady) return;
  runtimeReady = true;
  const options = () => {
    sdkLogger = new SdkLogger(process.env.INFTY_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN');
    return { logger: sdkLogger, shutdownSignals: [] };
  };
  const telemetryOptions = runtimeTelemetry({ metricsPort: config.metricsPort });
  if (!telemetryOptions) {
    Runtime.install(options());
    return;
  }
  try {
    Runtime.install({ ...options(), telemetryOptions });
  } catch (err) {
    note(`metrics are off in this process: ${(err as Error).message} (INFTY_METRICS_PORT=${config.metricsPort})`);
    Runtime.install(options());
  }
}

/**
 * For a worker that runs inside a command (run, create, demo): the SDK's log goes to
 * `$INFTY_HOME/logs/worker-<YYYYMMDD>.log`, the terminal gets one line per failure (docs/interface.md
 * §4 "Logs"). Returns the file; undefined (with a note) when it cannot be opened: the log stays on stderr.
 */
export function workerLogToFile(config: InftyConfig): string | undefined {
  if (!sdkLogger) return undefined;
  const file = workerLogFile(config.home);
  try {
    sdkLogger.toFile(file, note);
    return file;
  } catch (err) {
    note(`the worker's log stays on stderr: cannot open ${file} (${(err as Error).message})`);
    return undefined;
  }
}

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

/** The SDK's default for a worker: the first Ctrl+C (or SIGTERM, ...) shuts it down gracefully. Returns the undo. */
export function shutdownOnSignals(worker: InftyWorker): () => void {
  const off = () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, stop);
  };
  const stop = () => {
    off();
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, stop);
  return off;
}
