/**
 * What runs in this process: the embedded dev server when nothing answers on the default address,
 * and a worker when none polls the task queue (run, create, demo), or the `infty worker` command.
 */

import { existsSync } from 'node:fs';
import type { NativeConnection } from '@temporalio/worker';
import type { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UnreachableError } from '../errors';
import { describeRollout, rolloutOnStart, setCurrentCommand } from '../host/deployment';
import type { DevServerHandle } from '../server';
import { activityDepsFromConfig, createInftyWorker, type InftyWorker, storageFromConfig, type Tuning, tuningFromConfig, versioningFromConfig } from '../worker';
import { embeddedDatabase, startEmbeddedServer, usesEmbeddedDefault } from './embedded';
import { INTERRUPTED_SHUTDOWN_MS, serverStopGraceUntil } from './interrupt';
import { clientOver, connectNative, registerSearchAttributes, shutdownOnSignals, workerLogToFile } from './native';
import { note } from './session';
import { checkWorkerSandbox } from './workerSandbox';

interface Session {
  infty: InftyClient;
  /** Set when this process runs the worker. */
  worker?: InftyWorker;
  /** Set when this process started the embedded server. */
  server?: DevServerHandle;
  /** Worker drained, then the server stopped; `interrupted`: within about 2 s (in-flight work is retried later). */
  close(how?: { interrupted?: boolean }): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function createWorker(connection: NativeConnection, config: InftyConfig, tuning?: Tuning): Promise<InftyWorker> {
  return createInftyWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    deps: activityDepsFromConfig(config),
    storage: storageFromConfig(config),
    versioning: versioningFromConfig(config),
    tuning: { ...tuningFromConfig(config), ...tuning },
  });
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
    (err: unknown) =>
      note(
        `could not check the current version of Worker Deployment "${ref.deploymentName}" (${(err as Error).message}); to promote build ${ref.buildId}: ${setCurrentCommand(ref)}`,
      ),
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

/**
 * A connection to Temporal; on the embedded default, when nothing answers, the embedded dev server
 * is started first (`ifDatabase`: only when its database exists, i.e. runs were made with it).
 */
export async function connectOrEmbed(config: InftyConfig, embed: 'always' | 'ifDatabase'): Promise<{ connection: NativeConnection; server?: DevServerHandle }> {
  // TLS or an API key means a real server is meant: its failure is reported, never replaced by the embedded one.
  if (!usesEmbeddedDefault(config)) return { connection: await connectNative(config) };
  try {
    return { connection: await connectNative(config, 1_500) };
  } catch (err) {
    if (!(err instanceof UnreachableError) || (embed === 'ifDatabase' && !existsSync(embeddedDatabase(config)))) throw err;
  }
  const server = await startEmbeddedServer(config);
  try {
    return { connection: await connectNative(config), server };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/**
 * After Ctrl+C: an orderly shutdown within 2 s. In-flight activities get a moment to finish, then
 * are cancelled and reported failed (the next worker retries them); the dev server gets what is
 * left of the shutdown's deadline (interrupt.ts).
 */
const EMBEDDED_WORKER_GRACE_MS = 100;
const INTERRUPTED_WORKER_DRAIN_MS = 500;

/** For run/create/demo: the embedded server if needed, and a worker in this process if none polls. */
export async function connectWithEmbedding(config: InftyConfig, opts: { needWorker: boolean }): Promise<Session> {
  const { connection, server } = await connectOrEmbed(config, 'always');
  const infty = clientOver(connection, config);
  let worker: InftyWorker | undefined;
  let workerDone: Promise<void> | undefined;
  let stopRollout: (() => Promise<void>) | undefined;
  const close = async (how: { interrupted?: boolean } = {}) => {
    const deadline = Date.now() + INTERRUPTED_SHUTDOWN_MS;
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    const drained = workerDone?.catch(() => undefined);
    // Interrupted: in-flight work that does not finish at once is retried by the next worker.
    await (how.interrupted ? Promise.race([drained, sleep(INTERRUPTED_WORKER_DRAIN_MS)]) : drained);
    await stopRollout?.();
    await infty.close().catch(() => undefined);
    await server?.stop(how.interrupted ? serverStopGraceUntil(deadline) : undefined);
  };
  try {
    if (!server) await registerSearchAttributes(connection, config);
    if (opts.needWorker && (server || !(await infty.hasWorkflowPoller()))) {
      // The command owns the signals (interrupt.ts) and shuts this worker down itself.
      const logFile = workerLogToFile(config); // the SDK's warnings, stack traces included, go there; one line each here
      worker = await createWorker(connection, config, { shutdownGraceTime: EMBEDDED_WORKER_GRACE_MS });
      workerDone = worker.run();
      note(`started a worker in this process on task queue "${config.taskQueue}"${versionLabel(config)}`);
      if (logFile) note(`worker logs: ${logFile}`);
      stopRollout = rolloutInBackground(connection, config, worker);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { infty, worker, server, close };
}

/** `infty worker`: polls the task queue until Ctrl+C (with the embedded server when none answers on the default). */
export async function runWorkerForever(config: InftyConfig): Promise<void> {
  await checkWorkerSandbox(config);
  const { connection, server } = await connectOrEmbed(config, 'always');
  try {
    if (!server) await registerSearchAttributes(connection, config);
    const worker = await createWorker(connection, config);
    const undoSignals = shutdownOnSignals(worker);
    note(
      `worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.namespace})${versionLabel(config)}; Ctrl+C stops it`,
    );
    const running = worker.run();
    const stopRollout = rolloutInBackground(connection, config, worker);
    try {
      await running;
    } finally {
      undoSignals();
      await stopRollout();
    }
  } finally {
    await connection.close();
    await server?.stop();
  }
  note('worker stopped');
}
