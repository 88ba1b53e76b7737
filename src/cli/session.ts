/**
 * Connecting the CLI to Temporal: an explicit or default address, the embedded dev server when
 * nothing answers on the default one, and an in-process worker when no worker polls the queue.
 */
import { Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UnreachableError, UsageError } from '../errors';
import { ensureSearchAttributes, isTemporalReachable, startDevServer, type DevServerHandle } from '../server';
import { activityDepsFromConfig, createInftyWorker } from '../worker';

export interface Session {
  infty: InftyClient;
  server?: DevServerHandle;
  worker?: Worker;
  close(): Promise<void>;
}

export function note(message: string): void {
  process.stderr.write(`infty: ${message}\n`);
}

let runtimeReady = false;
export function quietRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  Runtime.install({ logger: new DefaultLogger(process.env.INFTY_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
}

export async function connect(config: InftyConfig): Promise<InftyClient> {
  return InftyClient.connect({ address: config.temporalAddress, namespace: config.namespace, taskQueue: config.taskQueue });
}

async function hasWorkflowPollers(infty: InftyClient): Promise<boolean> {
  const res = await infty.connection.workflowService.describeTaskQueue({
    namespace: infty.options.namespace,
    taskQueue: { name: infty.options.taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (res.pollers ?? []).length > 0;
}

/** For run/create/demo: the embedded server if needed, and a worker in this process if none polls. */
export async function connectWithEmbedding(config: InftyConfig, opts: { needWorker: boolean }): Promise<Session> {
  let server: DevServerHandle | undefined;
  if (!config.temporalAddressExplicit && !(await isTemporalReachable(config.temporalAddress, 1500))) {
    const [host, portText] = config.temporalAddress.split(':');
    const dbFile = join(config.home, 'temporal.db');
    try {
      server = await startDevServer({ ip: host, port: Number(portText), uiPort: Number(portText) + 1000, dbFile });
    } catch (err) {
      throw new UnreachableError(`no Temporal server answers on ${config.temporalAddress} and the embedded one could not start: ${(err as Error).message}`);
    }
    note(`no Temporal server on ${config.temporalAddress}; started the embedded dev server (SQLite ${dbFile})`);
    if (server.uiUrl) note(`Temporal Web UI: ${server.uiUrl}`);
  }
  const infty = await connect(config);
  if (!server) await registerSearchAttributes(config);
  let worker: Worker | undefined;
  let workerDone: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  if (opts.needWorker && (server || !(await hasWorkflowPollers(infty)))) {
    quietRuntime();
    nativeConnection = await NativeConnection.connect({ address: config.temporalAddress });
    worker = await createInftyWorker({
      connection: nativeConnection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      deps: activityDepsFromConfig(config),
    });
    workerDone = worker.run();
    note(`started a worker in this process on task queue "${config.taskQueue}"`);
  }
  return {
    infty,
    server,
    worker,
    async close() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone?.catch(() => undefined);
      await nativeConnection?.close();
      await infty.close();
      await server?.stop();
    },
  };
}

export async function runWorkerForever(config: InftyConfig): Promise<void> {
  quietRuntime();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.temporalAddress });
  } catch (err) {
    throw new UnreachableError(
      `cannot reach Temporal at ${config.temporalAddress} (${(err as Error).message}).\n` +
        'Start one with `infty server`, or set TEMPORAL_ADDRESS to a running server.',
    );
  }
  await registerSearchAttributes(config);
  const worker = await createInftyWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    deps: activityDepsFromConfig(config),
  });
  note(`worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.namespace}); Ctrl+C stops it`);
  await worker.run();
  await connection.close();
  note('worker stopped');
}

export async function registerSearchAttributes(config: InftyConfig): Promise<void> {
  try {
    const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 5_000 });
    try {
      await ensureSearchAttributes(connection, config.namespace);
    } finally {
      await connection.close();
    }
  } catch (err) {
    note(
      `could not register search attributes (${(err as Error).message}); ` +
        'register InftyGoalStatus and InftyPhase (Keyword) and InftyTokensUsed (Int) on the namespace',
    );
  }
}

/** Before starting a run on a worker in this process: a key or endpoint is set and the endpoint answers. */
export async function requireModelEndpoint(config: InftyConfig): Promise<void> {
  if (!config.apiKey && !config.baseURL) {
    throw new UsageError(
      'no model endpoint configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL for any OpenAI-compatible server), or try `infty demo`',
    );
  }
  const base = (config.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  try {
    // Any HTTP answer (even 401 or 404) means the endpoint is reachable.
    await fetch(`${base}/models`, { signal: AbortSignal.timeout(5_000), headers: config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {} });
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UnreachableError(`cannot reach the model endpoint ${base} (${why}); check OPENAI_BASE_URL and your network. Nothing was started.`);
  }
}
