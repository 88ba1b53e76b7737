/**
 * Acting on many runs (docs/interface.md §1 "Fleet control"): signals and cancellation go through
 * one Temporal batch operation over the listed runs, which the server runs asynchronously, so we
 * wait for it (describeBatchOperation) and report its counts. Updates (`setGoal`) have no batch
 * operation, so they go run by run with bounded concurrency and a result per run; so do signals
 * and cancellation when the server will not start a batch (see BATCH_UNAVAILABLE).
 */
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import type { InftyClient } from '../client';
import { temporalStatusOf } from '../host/temporalErrors';

/** `note`: done, but not by this command (a run that had already ended). */
export type EachResult = { runId: string; ok: true; note?: string } | { runId: string; ok: false; error: string };

/** What an action run by run may return besides nothing: a note on how the run was done. */
export interface ActedNote {
  note: string;
}

const isNote = (x: unknown): x is ActedNote => typeof x === 'object' && x !== null && typeof (x as { note?: unknown }).note === 'string';

export interface ActionResults {
  /** `batch`: one Temporal batch operation (counts only); `each`: run by run (`runs`); `none`: nothing matched. */
  method: 'batch' | 'each' | 'none';
  jobId?: string;
  /** The batch operation's state when we stopped waiting: `completed`, `failed` or `running`. */
  state?: string;
  total: number;
  succeeded: number;
  failed: number;
  runs?: EachResult[];
}

/** How many runs are acted on at once when going run by run. */
export const EACH_CONCURRENCY = 8;
/** How long to wait for a batch operation to finish before reporting it as still running. */
const BATCH_WAIT_MS = 60_000;
const BATCH_POLL_MS = 200;
/** gRPC codes on which startBatchOperation falls back to run by run: UNIMPLEMENTED, RESOURCE_EXHAUSTED (another batch job runs; the dev server allows one per namespace), PERMISSION_DENIED. */
const BATCH_UNAVAILABLE = new Set<number>([12, 8, 7]);

const { BatchOperationState } = temporal.api.enums.v1;

export async function forEachRun(runIds: string[], act: (runId: string) => Promise<unknown>): Promise<ActionResults> {
  const runs: EachResult[] = new Array(runIds.length);
  let next = 0;
  const lane = async () => {
    while (next < runIds.length) {
      const i = next++;
      const runId = runIds[i]!;
      try {
        const acted = await act(runId);
        runs[i] = isNote(acted) ? { runId, ok: true, note: acted.note } : { runId, ok: true };
      } catch (err) {
        runs[i] = { runId, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(EACH_CONCURRENCY, runIds.length) }, lane));
  const succeeded = runs.filter((r) => r.ok).length;
  return { method: 'each', total: runs.length, succeeded, failed: runs.length - succeeded, runs };
}

export type BatchOperation = { signal: string } | { cancel: true };

/**
 * Starts one batch operation over exactly these runs (their current executions) and waits for it;
 * undefined when the server will not run batch operations here (the caller goes run by run).
 */
export async function batch(infty: InftyClient, runIds: string[], op: BatchOperation, reason: string): Promise<ActionResults | undefined> {
  const service = infty.client.workflowService;
  const namespace = infty.options.namespace;
  const identity = infty.client.options.identity;
  const jobId = `infty-${'signal' in op ? op.signal : 'cancel'}-${randomUUID()}`;
  try {
    await service.startBatchOperation({
      namespace,
      jobId,
      reason,
      executions: runIds.map((workflowId) => ({ workflowId })),
      ...('signal' in op ? { signalOperation: { signal: op.signal, identity } } : { cancellationOperation: { identity } }),
    });
  } catch (err) {
    const code = temporalStatusOf(err)?.code;
    if (code !== undefined && BATCH_UNAVAILABLE.has(code)) return undefined;
    throw err;
  }
  const end = Date.now() + BATCH_WAIT_MS;
  for (;;) {
    const d = await service.describeBatchOperation({ namespace, jobId });
    const running = d.state === BatchOperationState.BATCH_OPERATION_STATE_RUNNING || d.state === BatchOperationState.BATCH_OPERATION_STATE_UNSPECIFIED;
    if (!running || Date.now() > end) {
      const state = running ? 'running' : d.state === BatchOperationState.BATCH_OPERATION_STATE_COMPLETED ? 'completed' : 'failed';
      const failed = Number(d.failureOperationCount ?? 0);
      return { method: 'batch', jobId, state, total: runIds.length, succeeded: Number(d.completeOperationCount ?? 0), failed };
    }
    await new Promise((r) => setTimeout(r, BATCH_POLL_MS));
  }
}
