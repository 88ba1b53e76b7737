/** Activity proxies with their timeouts and retry policies (ARCHITECTURE decisions 3 and 4). */
import { proxyActivities } from '@temporalio/workflow';
import type { InftyActivities } from '../protocol/activities';

/**
 * Long activities heartbeat every 2 s; a worker that dies is noticed after this long, and the
 * activity is retried elsewhere (ARCHITECTURE decision 3).
 */
const HEARTBEAT_TIMEOUT = '10 seconds';

export const MODEL_NON_RETRYABLE = ['ModelAuthError', 'ModelInvalidRequest', 'ContextLengthExceeded'];

/** Model activities with the run's retry bounds (exponential backoff; Retry-After overrides the delay). */
export function modelActivitiesFor(retry: { maximumAttempts: number; initialIntervalSecs: number }) {
  return proxyActivities<Pick<InftyActivities, 'modelStep' | 'compact'>>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: retry.initialIntervalSecs * 1000,
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: MODEL_NON_RETRYABLE,
    },
  });
}

export const toolActivities = proxyActivities<Pick<InftyActivities, 'runTool'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

export const storeActivities = proxyActivities<Pick<InftyActivities, 'createRun' | 'updateRunRecord' | 'validateDeliverable' | 'recordItems'>>({
  // Short file operations: a worker that dies during one is noticed quickly.
  startToCloseTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['RunAlreadyExists', 'SandboxUnavailable', 'InvalidRunInput'],
  },
});
