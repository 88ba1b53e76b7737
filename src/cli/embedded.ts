/**
 * The embedded default (docs/interface.md §4): with no TEMPORAL_ADDRESS, TLS or API key given, a
 * command that finds no Temporal server starts the embedded dev server on $INFTY_HOME/temporal.db
 * for as long as it runs — `run`, `create`, `demo` and `worker` always, the other commands when the
 * database exists (runs were made with it), so runs stay inspectable after the demo's server is gone.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UnreachableError } from '../errors';
import { ignoreIpServerNameWarning } from '../host/ipServerNameWarning';
import { temporalConnectFailure } from '../host/temporalConnectFailure';
import { type DevServerHandle, startDevServer } from '../server';
import { INTERRUPTED_SHUTDOWN_MS, serverStopGraceUntil } from './interrupt';
import { connectOptions, note } from './session';

export async function startEmbeddedServer(config: InftyConfig, opts: { headless?: boolean } = {}): Promise<DevServerHandle> {
  const [host, portText] = config.temporalAddress.split(':');
  const dbFile = embeddedDatabase(config);
  let server: DevServerHandle;
  try {
    server = await startDevServer({ ip: host, port: Number(portText), uiPort: Number(portText) + 1000, dbFile, headless: opts.headless });
  } catch (err) {
    throw new UnreachableError(`no Temporal server answers on ${config.temporalAddress} and the embedded one could not start: ${(err as Error).message}`);
  }
  note(`no Temporal server on ${config.temporalAddress}; started the embedded dev server (SQLite ${dbFile}); it stops when this command ends`);
  if (server.uiUrl) note(`Temporal Web UI: ${server.uiUrl}`);
  return server;
}

export function embeddedDatabase(config: InftyConfig): string {
  return join(config.home, 'temporal.db');
}

/** The embedded default: no TLS, no API key and no TEMPORAL_ADDRESS given (docs/interface.md §4). */
export function usesEmbeddedDefault(config: InftyConfig): boolean {
  return !(config.temporalAddressExplicit || config.temporalTls || config.temporalApiKey);
}

/** Runs `fn` with a client connection to Temporal, closed afterwards (and the embedded server it needed stopped). */
export async function withClient<T>(config: InftyConfig, fn: (infty: InftyClient) => Promise<T>, opts: { interrupted?: () => boolean } = {}): Promise<T> {
  if (config.temporalTls) ignoreIpServerNameWarning();
  let server: DevServerHandle | undefined;
  let infty: InftyClient;
  try {
    infty = await InftyClient.connect({ ...connectOptions(config), connectTimeoutMs: usesEmbeddedDefault(config) ? 1_500 : undefined });
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    if (!usesEmbeddedDefault(config) || !existsSync(embeddedDatabase(config))) throw await temporalConnectFailure(config, err.cause, err.message);
    server = await startEmbeddedServer(config, { headless: true });
    infty = await InftyClient.connect(connectOptions(config)).catch(async (e: unknown) => {
      await server?.stop();
      throw e;
    });
  }
  try {
    return await fn(infty);
  } finally {
    const deadline = Date.now() + INTERRUPTED_SHUTDOWN_MS;
    await infty.close();
    await server?.stop(opts.interrupted?.() ? serverStopGraceUntil(deadline) : undefined);
  }
}
