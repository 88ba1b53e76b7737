/** Activity proxies with their timeouts and retry policies (docs/architecture.md decisions 3 and 4). */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { InftyActivities } from '../protocol/activities';
import { PAYLOAD_TOO_LARGE, payloadTooLarge } from '../protocol/payloadLimits';

/** Workflow side of the payload cap: no activity is scheduled with an input over it. */
function capped<T extends object>(proxy: T): T {
  return new Proxy(proxy, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as unknown;
      if (typeof fn !== 'function') return fn;
      return (...args: unknown[]) => {
        const error = payloadTooLarge(`the input of activity ${String(name)}`, args);
        if (error) return Promise.reject(ApplicationFailure.nonRetryable(error, PAYLOAD_TOO_LARGE));
        return (fn as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

/**
 * Long activities heartbeat every 2 s; a worker that dies is noticed after this long, and the
 * activity is retried elsewhere (docs/architecture.md decision 3).
 */
const HEARTBEAT_TIMEOUT = '10 seconds';

export const MODEL_NON_RETRYABLE = ['ModelAuthError', 'ModelInvalidRequest', 'ContextLengthExceeded', 'ModelNotConfigured', PAYLOAD_TOO_LARGE];

/** Model activities with the run's retry bounds (exponential backoff; Retry-After overrides the delay). */
export function modelActivitiesFor(retry: { maximumAttempts: number; initialIntervalSecs: number }) {
  return capped(proxyActivities<Pick<InftyActivities, 'modelStep' | 'compact'>>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: retry.initialIntervalSecs * 1000,
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: MODEL_NON_RETRYABLE,
    },
  }));
}

export const toolActivities = capped(proxyActivities<Pick<InftyActivities, 'runTool' | 'runToolCall'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: [PAYLOAD_TOO_LARGE] },
}));

/** Deliverable validation hashes every file: large deliverables take a while, so it heartbeats. */
export const deliverableActivities = capped(proxyActivities<Pick<InftyActivities, 'validateDeliverable'>>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [PAYLOAD_TOO_LARGE] },
}));

export const storeActivities = capped(proxyActivities<Pick<InftyActivities, 'createRun' | 'updateRunRecord' | 'recordItems'>>({
  // Short file operations: a worker that dies during one is noticed quickly.
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['RunAlreadyExists', 'SandboxUnavailable', 'InvalidRunInput', PAYLOAD_TOO_LARGE],
  },
}));
