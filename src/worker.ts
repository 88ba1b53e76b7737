/**
 * Builds and runs the worker: workflow inftyRun and the activities on INFTY_TASK_QUEUE, and in
 * local storage also this worker's own queue for the runs whose files it holds (docs/architecture.md
 * decision 12).
 */

import { hostname } from 'node:os';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from './activities';
import { closeAllMcp } from './activities/mcp/pool';
import type { ModelEndpoint } from './activities/model';
import { PayloadGuard } from './activities/payloadGuard';
import { stopSnapshotWatchers } from './activities/snapshotWatch';
import type { InftyConfig } from './config';
import { startDemoModel } from './demo/demoModel';
import { loadPrices } from './host/prices';
import type { RunOwner } from './protocol/activities';
import { activityTelemetry, workflowSpanSinks } from './telemetry';
import { workflowSource } from './workflowBundle';

/** Whether this host can sandbox the Solver's commands (the CLI checks before it runs a worker here). */
export { detectSandbox } from './activities/tools/sandbox';
/** Metrics and traces for processes that install their own Temporal runtime (docs/interface.md §14). */
export { runtimeTelemetry, startTracing, type Tracing, type TracingOptions, workflowSpanSinks } from './telemetry';
/** Infty's workflow code and the interceptor modules its bundle carries (docs/architecture.md, "Workflow tracing"). */
export { workflowInterceptorModules, workflowSource, workflowsPath } from './workflowBundle';

export type Tuning = Partial<
  Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows' | 'identity' | 'shutdownGraceTime'>
>;

export interface StorageOptions {
  /** `local`: runs this worker creates keep their activities on its own queue; `shared`: any worker serves any activity. */
  mode: 'local' | 'shared';
  /** Stable across restarts of the same machine and disk (default: the host name). */
  workerId: string;
}

export interface InftyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Default: local storage, identified by the host name. */
  storage?: StorageOptions;
  /** Extra worker options (concurrency, identity, ...). */
  tuning?: Tuning;
  /** Worker Versioning: every SDK worker (both queues) polls as this version; unversioned when absent. */
  versioning?: WorkerVersioning;
}

/** A version of a Worker Deployment and the default behavior of the runs it starts (docs/architecture.md "Worker Versioning"). */
export interface WorkerVersioning {
  deploymentName: string;
  buildId: string;
  /** PINNED: a run finishes on the build it started on; AUTO_UPGRADE: it moves to the current build. */
  behavior: 'PINNED' | 'AUTO_UPGRADE';
}

/**
 * Activities one SDK worker runs at once (the SDK's default is 100). A model step holds its slot for
 * the whole model call, so the slots cap the runs a worker can keep talking to the model: with 100,
 * run 101 waited for a slot (bench 7, docs/architecture.md "Worker tuning"). Model calls and most
 * tools wait on I/O; commands are bounded by the command limits, not by slots.
 */
export const DEFAULT_ACTIVITY_SLOTS = 1000;

/** INFTY_WORKER_ACTIVITY_SLOTS and INFTY_WORKER_CACHED_RUNS as worker options (unset: the defaults). */
export function tuningFromConfig(config: Pick<InftyConfig, 'workerActivitySlots' | 'workerCachedRuns'>): Tuning {
  return {
    ...(config.workerActivitySlots !== undefined && { maxConcurrentActivityTaskExecutions: config.workerActivitySlots }),
    ...(config.workerCachedRuns !== undefined && { maxCachedWorkflows: config.workerCachedRuns }),
  };
}

/** The task queue only the worker `workerId` polls (local storage). */
export function ownerTaskQueue(taskQueue: string, workerId: string): string {
  return `${taskQueue}@${workerId}`;
}

/** Prebuilt workflow bundle (npm run build) when running compiled code; otherwise bundle from source. */
export function activityDepsFromConfig(config: InftyConfig): ActivityDeps {
  const endpoint: ModelEndpoint = { baseURL: config.baseURL, apiKey: config.apiKey, wireApi: config.wireApi, stream: config.stream };
  return {
    home: config.home,
    runsRoot: config.runsRoot,
    defaultModel: config.model,
    endpoint,
    demoEndpoint: lazyDemoEndpoint(config.wireApi),
    contextWindow: config.contextWindow,
    autoCompactLimit: config.autoCompactLimit,
    prices: loadPrices(config.pricesFile),
  };
}

export function storageFromConfig(config: InftyConfig): StorageOptions {
  return { mode: config.storage, workerId: config.workerId };
}

/** Versioned when INFTY_BUILD_ID (or `infty worker --build-id`) is set. */
export function versioningFromConfig(config: InftyConfig): WorkerVersioning | undefined {
  if (!config.buildId) return undefined;
  return { deploymentName: config.deploymentName, buildId: config.buildId, behavior: config.versioningBehavior };
}

/** The demo's scripted model endpoint, started inside this worker on first use. */
function lazyDemoEndpoint(wireApi: 'responses' | 'chat'): () => Promise<ModelEndpoint> {
  let started: Promise<ModelEndpoint> | undefined;
  return () => (started ??= startDemoModel().then((server) => ({ baseURL: server.baseUrl, apiKey: 'demo', wireApi, stream: true })));
}

/** One or two SDK workers (shared queue, and in local storage the owner queue) run and stop as one. */
export class InftyWorker {
  constructor(
    readonly workers: Worker[],
    readonly owner: RunOwner | null,
  ) {}

  /** The worker on the shared task queue (workflows and run creation). */
  get main(): Worker {
    return this.workers[0];
  }

  getState(): ReturnType<Worker['getState']> {
    return this.main.getState();
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** Runs until shutdown; if one worker fails, the other is stopped and the failure is thrown. */
  async run(): Promise<void> {
    const runs = this.workers.map((w) =>
      w.run().catch((err: unknown) => {
        this.shutdown();
        throw err;
      }),
    );
    const results = await Promise.allSettled(runs);
    await closeAllMcp(); // the MCP servers this process started (docs/architecture.md decision 17)
    stopSnapshotWatchers(); // the change watchers of turn snapshots (docs/architecture.md decision 13)
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Runs while `work` is pending, then shuts down; `work`'s result (or failure) is returned. */
  async runUntil<T>(work: Promise<T>): Promise<T> {
    const running = this.run();
    try {
      return await work;
    } finally {
      this.shutdown();
      await running;
    }
  }
}

export async function createInftyWorker(opts: InftyWorkerOptions): Promise<InftyWorker> {
  const storage = opts.storage ?? { mode: 'local', workerId: hostname() };
  const owner = storage.mode === 'local' ? { workerId: storage.workerId, taskQueue: ownerTaskQueue(opts.taskQueue, storage.workerId) } : null;
  const activities = createActivities({ ...opts.deps, owner });
  const common: WorkerOptions = {
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    identity: `${storage.workerId}:${process.pid}`,
    activities,
    interceptors: { activity: [...activityTelemetry(), (ctx) => ({ inbound: new PayloadGuard(ctx) })] },
    // In-flight activities get this long to finish after SIGTERM/SIGINT before they are cancelled.
    shutdownGraceTime: '10 seconds',
    // Heartbeats reach the server at least this often, so a dead worker is noticed within the
    // heartbeat timeout and cancellation reaches a running model call or command within a second.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    // A workflow task sent to a dead worker's sticky queue goes to any worker after this long.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    maxConcurrentActivityTaskExecutions: DEFAULT_ACTIVITY_SLOTS,
    ...(opts.versioning && {
      workerDeploymentOptions: {
        useWorkerVersioning: true,
        version: { deploymentName: opts.versioning.deploymentName, buildId: opts.versioning.buildId },
        defaultVersioningBehavior: opts.versioning.behavior,
      },
    }),
    ...opts.tuning,
  };
  const { workflowModules, ...source } = workflowSource();
  const main = await Worker.create({
    ...common,
    ...source,
    interceptors: { ...common.interceptors, ...(workflowModules && { workflowModules }) },
    sinks: workflowSpanSinks(),
  });
  if (!owner) return new InftyWorker([main], null);
  const own = await Worker.create({ ...common, taskQueue: owner.taskQueue });
  return new InftyWorker([main, own], owner);
}
