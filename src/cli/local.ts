/**
 * What runs in this process: the embedded dev server when nothing answers on the default address,
 * and a worker when none polls the task queue (run, create, demo), or the `infty worker` command.
 */
import type { NativeConnection } from '@temporalio/worker';
import { join } from 'node:path';
import type { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UnreachableError } from '../errors';
import { startDevServer, type DevServerHandle } from '../server';
import { describeRollout, rolloutOnStart, setCurrentCommand } from '../host/deployment';
import { activityDepsFromConfig, createInftyWorker, storageFromConfig, versioningFromConfig, type InftyWorker } from '../worker';
import { clientOver, connectNative, note, registerSearchAttributes, shutdownOnSignals } from './session';

interface Session {
  infty: InftyClient;
  /** Set when this process runs the worker. */
  worker?: InftyWorker;
  close(): Promise<void>;
}

function createWorker(connection: NativeConnection, config: InftyConfig): Promise<InftyWorker> {
  return createInftyWorker({ connection, namespace: config.namespace, taskQueue: config.taskQueue, deps: activityDepsFromConfig(config), storage: storageFromConfig(config), versioning: versioningFromConfig(config) });
}

/**
 * A versioned worker, once polling, checks in the background whether its build is current (and
 * makes it current when the deployment has none) and says so. Returns a stop that waits for it.
 */
function rolloutInBackground(connection: NativeConnection, config: InftyConfig, worker: InftyWorker): () => Promise<void> {
  const versioning = versioningFromConfig(config);
  if (!versioning) return async () => undefined;
  const ref = {
    namespace: config.namespace,
    deploymentName: versioning.deploymentName,
    buildId: versioning.buildId,
    behavior: versioning.behavior,
    identity: `${config.workerId}:${process.pid}`,
    taskQueue: config.taskQueue,
    taskQueues: [config.taskQueue, ...(worker.owner ? [worker.owner.taskQueue] : [])],
  };
  const abort = new AbortController();
  const done = rolloutOnStart(connection.workflowService, ref, { signal: abort.signal }).then(
    (outcome) => {
      if (!abort.signal.aborted) note(describeRollout(outcome, ref));
    },
    (err: unknown) => note(`could not check the current version of Worker Deployment "${ref.deploymentName}" (${(err as Error).message}); to promote build ${ref.buildId}: ${setCurrentCommand(ref)}`),
  );
  return async () => {
    abort.abort();
    await done;
  };
}

function versionLabel(config: InftyConfig): string {
  const v = versioningFromConfig(config);
  return v ? ` as build ${v.buildId} of Worker Deployment "${v.deploymentName}" (${v.behavior === 'PINNED' ? 'pinned' : 'auto-upgrade'})` : '';
}

async function hasWorkflowPollers(infty: InftyClient): Promise<boolean> {
  const res = await infty.connection.workflowService.describeTaskQueue({
    namespace: infty.options.namespace,
    taskQueue: { name: infty.options.taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (res.pollers ?? []).length > 0;
}

async function startEmbeddedServer(config: InftyConfig): Promise<DevServerHandle> {
  const [host, portText] = config.temporalAddress.split(':');
  const dbFile = join(config.home, 'temporal.db');
  let server: DevServerHandle;
  try {
    server = await startDevServer({ ip: host, port: Number(portText), uiPort: Number(portText) + 1000, dbFile });
  } catch (err) {
    throw new UnreachableError(`no Temporal server answers on ${config.temporalAddress} and the embedded one could not start: ${(err as Error).message}`);
  }
  note(`no Temporal server on ${config.temporalAddress}; started the embedded dev server (SQLite ${dbFile})`);
  if (server.uiUrl) note(`Temporal Web UI: ${server.uiUrl}`);
  return server;
}

/** For run/create/demo: the embedded server if needed, and a worker in this process if none polls. */
export async function connectWithEmbedding(config: InftyConfig, opts: { needWorker: boolean }): Promise<Session> {
  let server: DevServerHandle | undefined;
  let connection: NativeConnection;
  // TLS or an API key means a real server is meant: its failure is reported, never replaced by the embedded one.
  if (config.temporalAddressExplicit || config.temporalTls || config.temporalApiKey) {
    connection = await connectNative(config);
  } else {
    try {
      connection = await connectNative(config, 1_500);
    } catch (err) {
      if (!(err instanceof UnreachableError)) throw err;
      server = await startEmbeddedServer(config);
      connection = await connectNative(config).catch(async (e: unknown) => {
        await server?.stop();
        throw e;
      });
    }
  }
  const infty = clientOver(connection, config);
  let worker: InftyWorker | undefined;
  let workerDone: Promise<void> | undefined;
  let undoSignals: (() => void) | undefined;
  let stopRollout: (() => Promise<void>) | undefined;
  const close = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone?.catch(() => undefined);
    await stopRollout?.();
    undoSignals?.();
    await infty.close();
    await server?.stop();
  };
  try {
    if (!server) await registerSearchAttributes(connection, config.namespace);
    if (opts.needWorker && (server || !(await hasWorkflowPollers(infty)))) {
      worker = await createWorker(connection, config);
      undoSignals = shutdownOnSignals(worker);
      workerDone = worker.run();
      note(`started a worker in this process on task queue "${config.taskQueue}"${versionLabel(config)}`);
      stopRollout = rolloutInBackground(connection, config, worker);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { infty, worker, close };
}

/** `infty worker`: polls the task queue until Ctrl+C. */
export async function runWorkerForever(config: InftyConfig): Promise<void> {
  const connection = await connectNative(config);
  try {
    await registerSearchAttributes(connection, config.namespace);
    const worker = await createWorker(connection, config);
    const undoSignals = shutdownOnSignals(worker);
    note(`worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.namespace})${versionLabel(config)}; Ctrl+C stops it`);
    const running = worker.run();
    const stopRollout = rolloutInBackground(connection, config, worker);
    await running.finally(async () => {
      undoSignals();
      await stopRollout();
    });
  } finally {
    await connection.close();
  }
  note('worker stopped');
}
