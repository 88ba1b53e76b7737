/**
 * Activity proxies with their timeouts and retry policies (docs/architecture.md decisions 3 and 4),
 * and the one place every activity call of a run passes through: the payload cap, the summary the
 * Web UI shows, and the task queue of the worker whose disk holds the run (docs/architecture.md decision 12).
 */
import {
  ActivityFailure,
  type ActivityInterfaceFor,
  ApplicationFailure,
  type LocalActivityOptions,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { InftyActivities, RunOwner } from '../protocol/activities';
import { HEARTBEAT_TIMEOUT_MS } from '../protocol/heartbeat';
import { PAYLOAD_TOO_LARGE, payloadTooLarge } from '../protocol/payloadLimits';
import { activitySummary } from './summaries';

export const MODEL_NON_RETRYABLE = ['ModelAuthError', 'ModelInvalidRequest', 'ContextLengthExceeded', 'ModelNotConfigured', PAYLOAD_TOO_LARGE];

/**
 * How long an activity may sit on its owner's queue before the run says it waits for that worker;
 * after that the wait continues in longer slices (each slice adds three events to the history).
 */
export const OWNER_NOTICE = '10 seconds';
const OWNER_RECHECK = '5 minutes';

/** Where a run's activities go and who hears that the owner is not taking them. */
export interface ActivityRoute {
  /** The worker whose disk holds the run's files; null: any worker (shared storage, or before the run exists). */
  owner(): RunOwner | null;
  /** `owner` has not taken an activity for OWNER_NOTICE; called with null once it has. */
  waiting(owner: RunOwner | null): void;
}

type Proxied<K extends keyof InftyActivities> = ActivityInterfaceFor<Pick<InftyActivities, K>>;

function modelProxies(retry: { maximumAttempts: number; initialIntervalSecs: number }): Proxied<'modelStep' | 'compact'> {
  return proxyActivities<Pick<InftyActivities, 'modelStep' | 'compact'>>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: {
      initialInterval: retry.initialIntervalSecs * 1000,
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: MODEL_NON_RETRYABLE,
    },
  });
}

const toolProxies = proxyActivities<Pick<InftyActivities, 'runTool' | 'runToolCall'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: [PAYLOAD_TOO_LARGE] },
});

/** Listing a run's MCP tools starts its servers (docs/architecture.md decision 17): bounded by the servers' own timeouts. */
const mcpProxies = proxyActivities<Pick<InftyActivities, 'listMcpTools'>>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: [PAYLOAD_TOO_LARGE] },
});

/** Deliverable validation hashes every file: large deliverables take a while, so it heartbeats. */
const deliverableProxies = proxyActivities<Pick<InftyActivities, 'validateDeliverable'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [PAYLOAD_TOO_LARGE] },
});

/** A turn snapshot reads the run directory (docs/architecture.md decision 13): it heartbeats per file. */
const snapshotProxies = proxyActivities<Pick<InftyActivities, 'snapshotTurn'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

/** Short file operations: a worker that dies during one is noticed quickly. */
const STORE_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['RunAlreadyExists', 'SandboxUnavailable', 'InvalidRunInput', PAYLOAD_TOO_LARGE],
  },
};

const storeProxies = proxyActivities<Pick<InftyActivities, 'createRun' | 'updateRunRecord' | 'recordItems'>>(STORE_OPTIONS);

/**
 * A new run without a project or a fork source creates its directory on the worker that runs its
 * first workflow task: no activity task, no second workflow task before the first model step
 * (docs/architecture.md decisions 4 and 12). The result is recorded with that task.
 */
const localStoreProxies = proxyLocalActivities<Pick<InftyActivities, 'createRun'>>(STORE_OPTIONS);

/**
 * Creating a project run copies the project (docs/behaviour.md §4.4): as long as the tree needs, so
 * it heartbeats; a refused source is final.
 */
const projectProxies = proxyActivities<Pick<InftyActivities, 'createRun' | 'projectChange'>>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['RunAlreadyExists', 'SandboxUnavailable', 'InvalidRunInput', 'InvalidProjectSource', 'ProjectBaseMissing', PAYLOAD_TOO_LARGE],
  },
});

function isOwnerAbsent(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

type Callable = { executeWithOptions(options: object, args: unknown[]): Promise<unknown> };

async function call(fn: Callable, name: string, args: unknown[], route: ActivityRoute): Promise<unknown> {
  const error = payloadTooLarge(`the input of activity ${name}`, args);
  if (error) throw ApplicationFailure.nonRetryable(error, PAYLOAD_TOO_LARGE);
  const summary = activitySummary(name, args[0]);
  const owner = route.owner();
  if (!owner) return fn.executeWithOptions({ summary }, args);
  let slice = OWNER_NOTICE;
  let waited = false;
  for (;;) {
    try {
      const result = await fn.executeWithOptions({ summary, taskQueue: owner.taskQueue, scheduleToStartTimeout: slice }, args);
      if (waited) route.waiting(null);
      return result;
    } catch (err) {
      if (!isOwnerAbsent(err)) {
        if (waited) route.waiting(null);
        throw err;
      }
      if (!waited) route.waiting(owner);
      waited = true;
      slice = OWNER_RECHECK;
    }
  }
}

function routed<T extends object>(proxies: T, route: ActivityRoute): T {
  return new Proxy(proxies, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as unknown;
      if (typeof fn !== 'function') return fn;
      return (...args: unknown[]) => call(fn as unknown as Callable, String(name), args, route);
    },
  });
}

/** Every activity of one run, routed as `route` says. */
export function runActivities(route: ActivityRoute, retry: { maximumAttempts: number; initialIntervalSecs: number }) {
  return {
    model: routed(modelProxies(retry), route),
    tools: routed(toolProxies, route),
    deliverable: routed(deliverableProxies, route),
    store: routed(storeProxies, route),
    localStore: routed(localStoreProxies, route),
    snapshots: routed(snapshotProxies, route),
    project: routed(projectProxies, route),
    mcp: routed(mcpProxies, route),
  };
}

export type RunActivities = ReturnType<typeof runActivities>;
