/** Builds and runs the worker: workflow inftyRun and the activities, on INFTY_TASK_QUEUE. */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createActivities, type ActivityDeps } from './activities';
import { PayloadGuard } from './activities/payloadGuard';
import type { ModelEndpoint } from './activities/model';
import type { InftyConfig } from './config';
import { startDemoModel } from './demo/demoModel';
import { projectRoot } from './temporalCli';

/** Whether this host can sandbox the Solver's commands (the CLI checks before it runs a worker here). */
export { detectSandbox } from './activities/tools/sandbox';

export interface InftyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Extra worker options (concurrency, identity, ...). */
  tuning?: Partial<Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows' | 'identity' | 'shutdownGraceTime'>>;
}

/** Prebuilt workflow bundle (npm run build) when running compiled code; otherwise bundle from source. */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const explicit = process.env.INFTY_WORKFLOW_BUNDLE;
  if (explicit) return { workflowBundle: { codePath: explicit } };
  const compiled = __filename.endsWith('.js');
  const bundle = join(projectRoot(), 'dist', 'workflow-bundle.js');
  if (compiled && existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  return { workflowsPath: join(__dirname, 'workflows', compiled ? 'index.js' : 'index.ts') };
}

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
  };
}

/** The demo's scripted model endpoint, started inside this worker on first use. */
function lazyDemoEndpoint(wireApi: 'responses' | 'chat'): () => Promise<ModelEndpoint> {
  let started: Promise<ModelEndpoint> | undefined;
  return () =>
    (started ??= startDemoModel().then((server) => ({ baseURL: server.baseUrl, apiKey: 'demo', wireApi, stream: true })));
}

export async function createInftyWorker(opts: InftyWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowSource(),
    activities: createActivities(opts.deps),
    interceptors: { activity: [(ctx) => ({ inbound: new PayloadGuard(ctx) })] },
    shutdownGraceTime: '5 seconds',
    // Heartbeats reach the server at least this often, so cancellation reaches a running model
    // call or command within seconds (the default throttle is 80% of the heartbeat timeout).
    maxHeartbeatThrottleInterval: '2 seconds',
    defaultHeartbeatThrottleInterval: '2 seconds',
    // A workflow task sent to a dead worker's sticky queue goes to any worker after this long.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    ...opts.tuning,
  });
}
