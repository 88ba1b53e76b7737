/**
 * Worker Versioning rollout on worker start (docs/architecture.md "Worker Versioning"): the first
 * version of a Worker Deployment makes itself current, so a first versioned rollout works without
 * an operator step; any later version says how to promote it, and never promotes itself.
 */
import type { WorkflowService } from '@temporalio/client';

export interface DeploymentVersionRef {
  namespace: string;
  deploymentName: string;
  buildId: string;
  /** Recorded by the server as the last modifier of the deployment. */
  identity: string;
  /** The shared task queue; this worker also polls `taskQueues` (its owner queue in local storage). */
  taskQueue: string;
  taskQueues: string[];
  behavior: 'PINNED' | 'AUTO_UPGRADE';
}

export type RolloutOutcome =
  /** The deployment had never had a current version; this one is now current. */
  | { kind: 'made-current' }
  | { kind: 'already-current' }
  /**
   * Another version (or unversioned workers, `current` null) is current; promote with `command`.
   * `missing`: task queues of the current version this worker does not poll (owner queues of other
   * worker ids, in local storage), which the server protects unless told to ignore them.
   */
  | { kind: 'not-current'; current: string | null; command: string; missing: string[] }
  /** A manager identity owns the deployment's routing: left to it. */
  | { kind: 'managed'; manager: string; command: string }
  /** The server did not register this version in time (or refused): promote with `command`. */
  | { kind: 'gave-up'; reason: string; command: string };

const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;
const GRPC_UNIMPLEMENTED = 12;

/** The official command that makes `v` the current version (TEMPORAL_ADDRESS is read by the temporal CLI too). */
export function setCurrentCommand(v: Pick<DeploymentVersionRef, 'namespace' | 'deploymentName' | 'buildId'>, ignoreMissingTaskQueues = false): string {
  const ns = v.namespace === 'default' ? '' : ` --namespace ${v.namespace}`;
  const ignore = ignoreMissingTaskQueues ? ' --ignore-missing-task-queues' : '';
  return `temporal worker deployment set-current-version --deployment-name ${v.deploymentName} --build-id ${v.buildId}${ns}${ignore}`;
}

/**
 * Owner queues (`<queue>@<worker id>`) only carry activities of runs created on that worker, and a
 * pinned run's activities go to its own version's pollers whatever the queue's routing says, so
 * leaving them out of the new current version is safe for pinned runs. Auto-upgrade runs would move
 * to the new version and find no poller on the old owner queue: no ignoring then.
 */
function canIgnoreMissing(v: DeploymentVersionRef, missing: string[]): boolean {
  return v.behavior === 'PINNED' && missing.length > 0 && missing.every((q) => q.startsWith(`${v.taskQueue}@`));
}

async function missingTaskQueues(
  service: Pick<WorkflowService, 'describeWorkerDeploymentVersion'>,
  v: DeploymentVersionRef,
  current: string,
): Promise<string[]> {
  const res = await service.describeWorkerDeploymentVersion({
    namespace: v.namespace,
    deploymentVersion: { deploymentName: v.deploymentName, buildId: current },
  });
  const theirs = new Set((res.workerDeploymentVersionInfo?.taskQueueInfos ?? []).map((q) => q.name ?? ''));
  return [...theirs].filter((name) => name !== '' && !v.taskQueues.includes(name)).sort();
}

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Run once a versioned worker polls. The server knows a version only after it has seen its pollers,
 * so "not found" is retried until `timeoutMs`. The set uses the describe's conflict token: of two
 * first versions starting together exactly one becomes current, the other reports `not-current`.
 */
export async function rolloutOnStart(
  service: Pick<WorkflowService, 'describeWorkerDeployment' | 'describeWorkerDeploymentVersion' | 'setWorkerDeploymentCurrentVersion'>,
  v: DeploymentVersionRef,
  opts: { signal?: AbortSignal; timeoutMs?: number; retryMs?: number } = {},
): Promise<RolloutOutcome> {
  const command = setCurrentCommand(v);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError = 'the server has not registered this version yet';
  while (!opts.signal?.aborted && Date.now() < deadline) {
    try {
      const res = await service.describeWorkerDeployment({ namespace: v.namespace, deploymentName: v.deploymentName });
      const info = res.workerDeploymentInfo;
      const routing = info?.routingConfig;
      const current = routing?.currentDeploymentVersion?.buildId ?? null;
      if (current === v.buildId) return { kind: 'already-current' };
      if (info?.managerIdentity && info.managerIdentity !== v.identity) return { kind: 'managed', manager: info.managerIdentity, command };
      // A current version chosen before, even "unversioned" on purpose, is the operator's choice.
      if (current !== null || routing?.currentVersionChangedTime) {
        const missing = current === null ? [] : await missingTaskQueues(service, v, current);
        return { kind: 'not-current', current, command: setCurrentCommand(v, canIgnoreMissing(v, missing)), missing };
      }
      const known = (info?.versionSummaries ?? []).some((s) => s.deploymentVersion?.buildId === v.buildId);
      if (known) {
        await service.setWorkerDeploymentCurrentVersion({
          namespace: v.namespace,
          deploymentName: v.deploymentName,
          buildId: v.buildId,
          conflictToken: res.conflictToken,
          identity: v.identity,
        });
        return { kind: 'made-current' };
      }
    } catch (err) {
      const code = grpcCode(err);
      if (code === GRPC_UNIMPLEMENTED) return { kind: 'gave-up', reason: (err as Error).message, command };
      // Not found: no pollers seen yet. Failed precondition: the version is not registered on all
      // its task queues yet, or the conflict token is stale (someone else changed routing): describe again.
      if (code !== GRPC_NOT_FOUND && code !== GRPC_FAILED_PRECONDITION) throw err;
      lastError = (err as Error).message;
    }
    await sleep(opts.retryMs ?? 500, opts.signal);
  }
  return { kind: 'gave-up', reason: lastError, command };
}

/** One line for the worker's log. */
export function describeRollout(o: RolloutOutcome, v: Pick<DeploymentVersionRef, 'deploymentName' | 'buildId'>): string {
  const name = `build ${v.buildId} of Worker Deployment "${v.deploymentName}"`;
  switch (o.kind) {
    case 'made-current':
      return `${name} is now the current version (the deployment had none): new runs start on it`;
    case 'already-current':
      return `${name} is the current version: new runs start on it`;
    case 'not-current': {
      const head = `${name} is not current (current: ${o.current ?? 'unversioned workers'}); new runs start on the current version`;
      if (o.missing.length === 0) return `${head}; to promote it: ${o.command}`;
      const queues = o.missing.join(', ');
      if (o.command.endsWith(' --ignore-missing-task-queues')) {
        return `${head}; this build does not poll ${queues} (other workers' own queues, which keep serving the runs pinned to their version); to promote it: ${o.command}`;
      }
      return `${head}; the current version also polls ${queues}, which this build does not (in local storage, upgrade each worker in place with the same INFTY_WORKER_ID); once it does, promote it: ${o.command}`;
    }
    case 'managed':
      return `${name} is not current; the deployment's routing is managed by "${o.manager}"; to promote it: ${o.command}`;
    case 'gave-up':
      return `${name}: could not check whether it is current (${o.reason}); to promote it: ${o.command}`;
  }
}
