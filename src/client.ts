/** Typed client: start runs, read progress and goals, steer, pause, resume, re-budget, cancel, list. */
import {
  CancelledFailure,
  Client,
  Connection,
  type ConnectionLike,
  type QueryDefinition,
  ServiceError,
  type SignalDefinition,
  type TLSConfig,
  type UpdateDefinition,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowExecutionInfo,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { UnreachableError, UsageError } from './errors';
import { APPROVALS_MEMO_KEY, type ApprovalResult, type PendingApproval } from './protocol/approval';
import { type Goal, type SetGoalRequest, validateObjective } from './protocol/goal';
import {
  approveUpdate,
  denyUpdate,
  GOAL_MEMO_KEY,
  GOAL_STATUS_KEY,
  goalQuery,
  PHASE_KEY,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setGoalUpdate,
  steerSignal,
  TOKENS_USED_KEY,
  WORKFLOW_TYPE,
} from './protocol/names';
import type { RunOutcome } from './protocol/outcome';
import type { Progress } from './protocol/progress';
import { type RunInput, type RunInputRaw, RunInputSchema } from './protocol/runInput';
import { formatZodError } from './protocol/signals';
import { runStaticDetails, runStaticSummary } from './protocol/userMetadata';
import type { inftyRun } from './workflows';

export { WORKFLOW_TYPE };

export interface ConnectOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  connectTimeoutMs?: number;
  /** TLS (server CA, client certificate pair for mTLS, server name); `true`: TLS with the system's roots. Default: on when `apiKey` is set. */
  tls?: TLSConfig | boolean;
  /** Temporal API key, sent as `authorization: Bearer <key>` (Temporal Cloud). */
  apiKey?: string;
  /** This machine's INFTY_WORKER_ID: a poller it lists whose process is gone is not a worker (hasWorkflowPoller). */
  localWorkerId?: string;
}

export interface RunListEntry {
  runId: string;
  status: string;
  goalStatus: string | null;
  phase: string | null;
  tokensUsed: number | null;
  startedAt: string | null;
  closedAt: string | null;
  /** The execution's memo (only when listed with `memo: true`). */
  memo?: Record<string, unknown>;
}

export function unreachableMessage(address: string, cause: unknown): string {
  const why = cause instanceof Error ? cause.message : String(cause);
  return (
    `cannot reach Temporal at ${address} (${why}).\n` +
    'Start one with `infty server` (or `temporal server start-dev`), or set TEMPORAL_ADDRESS to a running server.'
  );
}

export class InftyClient {
  private constructor(
    readonly connection: ConnectionLike,
    readonly client: Client,
    readonly options: ConnectOptions,
  ) {}

  static async connect(options: ConnectOptions): Promise<InftyClient> {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({
        address: options.address,
        connectTimeout: options.connectTimeoutMs ?? 5_000,
        tls: options.tls,
        apiKey: options.apiKey,
      });
      await connection.workflowService.getSystemInfo({});
    } catch (err) {
      await connection?.close().catch(() => undefined);
      throw new UnreachableError(unreachableMessage(options.address, err), { cause: err });
    }
    return InftyClient.over(connection, options);
  }

  /** A client over a connection opened elsewhere (e.g. shared with a worker); close() closes it. */
  static over(connection: ConnectionLike, options: ConnectOptions): InftyClient {
    // Spans for start, signal, update and query calls once the process registers an OpenTelemetry
    // tracer provider (docs/interface.md §14); without one it records nothing.
    const interceptors = { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
    return new InftyClient(connection, new Client({ connection, namespace: options.namespace, interceptors }), options);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Validates the input (exit 2 on error) and starts the run; a run id that was ever used is refused. */
  async startRun(raw: RunInputRaw): Promise<{ input: RunInput; handle: WorkflowHandle<typeof inftyRun> }> {
    const parsed = RunInputSchema.safeParse(raw);
    if (!parsed.success) throw new UsageError(`invalid run: ${formatZodError(parsed.error)}`);
    const input = parsed.data;
    const taken = () => new UsageError(`run id "${input.runId}" already exists; choose another --run-id (nothing was started)`);
    if (await this.exists(input.runId)) throw taken();
    try {
      const handle = await this.client.workflow.start<typeof inftyRun>(WORKFLOW_TYPE, {
        workflowId: input.runId,
        taskQueue: this.options.taskQueue,
        args: [raw],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // Shown by the Temporal Web UI and CLI: the objective as the run's summary, its setup as details.
        staticSummary: runStaticSummary(input),
        staticDetails: runStaticDetails(input),
        // The goal as it starts, for `infty goal` before any worker has run the workflow (its own upserts follow).
        memo: { [GOAL_MEMO_KEY]: startingGoal(input, new Date()) },
        typedSearchAttributes: [
          { key: GOAL_STATUS_KEY, value: 'active' },
          { key: PHASE_KEY, value: 'starting' },
          { key: TOKENS_USED_KEY, value: 0 },
        ],
      });
      return { input, handle };
    } catch (err) {
      throw err instanceof WorkflowExecutionAlreadyStartedError ? taken() : err;
    }
  }

  handle(runId: string): WorkflowHandle<typeof inftyRun> {
    return this.client.workflow.getHandle<typeof inftyRun>(runId);
  }

  async exists(runId: string): Promise<boolean> {
    try {
      await this.handle(runId).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Describes the run or throws a UsageError naming the unknown run id. */
  async describe(runId: string) {
    try {
      return await this.handle(runId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new UsageError(`no run with id "${runId}" on ${this.options.address} (namespace ${this.options.namespace}); see \`infty list\``);
      }
      throw err;
    }
  }

  async progress(runId: string): Promise<Progress> {
    return this.queryKnown(runId, progressQuery);
  }

  /** The progress query alone (no describe), given up after `timeoutMs` when no worker answers. */
  async liveProgress(runId: string, timeoutMs: number): Promise<Progress> {
    return this.connection.withDeadline(Date.now() + timeoutMs, () => this.handle(runId).query(progressQuery));
  }

  async goal(runId: string): Promise<Goal> {
    return this.queryKnown(runId, goalQuery);
  }

  /** The goal query alone (no describe), given up after `timeoutMs` when no worker answers. */
  async liveGoal(runId: string, timeoutMs: number): Promise<Goal> {
    return this.connection.withDeadline(Date.now() + timeoutMs, () => this.handle(runId).query(goalQuery));
  }

  /**
   * Whether any worker polls the task queue for workflow tasks (queries and updates need one).
   * The server keeps listing a poller for about a minute after it stopped, so true is a hint; a
   * poller of this machine (`options.localWorkerId`; identities are `<INFTY_WORKER_ID>:<pid>`)
   * whose process is gone does not count.
   */
  async hasWorkflowPoller(): Promise<boolean> {
    const localWorkerId = this.options.localWorkerId;
    const res = await this.connection.workflowService.describeTaskQueue({
      namespace: this.options.namespace,
      taskQueue: { name: this.options.taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    return (res.pollers ?? []).some((p) => localWorkerId === undefined || !isGoneLocalProcess(p.identity ?? '', localWorkerId));
  }

  private async queryKnown<T>(runId: string, query: QueryDefinition<T>): Promise<T> {
    await this.describe(runId);
    return this.handle(runId).query(query);
  }

  /** Runs the validated setGoal update; a refused update changes nothing and its reason becomes a UsageError. */
  async setGoal(runId: string, request: SetGoalRequest): Promise<Goal> {
    if (request.objective !== undefined) {
      const checked = validateObjective(request.objective);
      if (!checked.ok) throw new UsageError(`refused: ${checked.error}`);
    }
    return this.update(runId, setGoalUpdate, request, 'a goal change');
  }

  /** Approves `callId` (absent: every call of the run that waits); an unknown or decided call is refused (UsageError). */
  async approve(runId: string, callId?: string): Promise<ApprovalResult> {
    return this.update(runId, approveUpdate, callId === undefined ? {} : { callId }, 'an approval');
  }

  /** Denies `callId`; the Solver gets the reason as the call's output. */
  async deny(runId: string, callId: string, reason?: string): Promise<ApprovalResult> {
    return this.update(runId, denyUpdate, { callId, ...(reason?.trim() ? { reason: reason.trim() } : {}) }, 'a denial');
  }

  /**
   * What waits for approval across running runs (`where`: a visibility query ANDed with it), from
   * the runs' memo: no worker needed.
   */
  async pendingApprovals(where?: string): Promise<PendingApproval[]> {
    const phase = `${PHASE_KEY.name} = 'awaiting_approval'`;
    const runs = await this.list(Number.POSITIVE_INFINITY, { where: where?.trim() ? `${phase} AND (${where})` : phase, running: true, memo: true });
    return runs.flatMap((r) => (Array.isArray(r.memo?.[APPROVALS_MEMO_KEY]) ? (r.memo[APPROVALS_MEMO_KEY] as PendingApproval[]) : []));
  }

  /** A validated update: the run must be running and a worker must poll; a validator's refusal is a UsageError. */
  private async update<Ret, Arg>(runId: string, def: UpdateDefinition<Ret, [Arg]>, arg: Arg, what: string): Promise<Ret> {
    await this.requireRunning(runId);
    if (!(await this.hasWorkflowPoller())) {
      throw new UnreachableError(
        `no worker polls task queue "${this.options.taskQueue}", and ${what} is a Temporal update that a worker must accept (nothing was changed); start one with \`infty worker\`, then retry`,
      );
    }
    try {
      return await this.handle(runId).executeUpdate(def, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UsageError(`refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  }

  async steer(runId: string, message: string): Promise<void> {
    if (!message.trim()) throw new UsageError('the steering message is empty');
    await this.signalRunning(runId, steerSignal, { message });
  }

  async pause(runId: string): Promise<void> {
    await this.signalRunning(runId, pauseSignal);
  }

  async resume(runId: string): Promise<void> {
    await this.signalRunning(runId, resumeSignal);
  }

  private async signalRunning<Args extends unknown[]>(runId: string, signal: SignalDefinition<Args>, ...args: Args): Promise<void> {
    await this.requireRunning(runId);
    await this.handle(runId).signal(signal, ...args);
  }

  async cancel(runId: string): Promise<void> {
    await this.requireRunning(runId);
    await this.handle(runId).cancel();
  }

  private async requireRunning(runId: string): Promise<void> {
    const d = await this.describe(runId);
    if (d.status.name !== 'RUNNING') throw new UsageError(`run "${runId}" is not running (${d.status.name.toLowerCase()})`);
  }

  /** The outcome (docs/behaviour.md §3); a cancelled run yields status "cancelled". */
  async result(runId: string): Promise<RunOutcome> {
    try {
      return await this.handle(runId).result();
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
        return { runId, status: 'cancelled', reason: 'cancelled by the user' };
      }
      if (err instanceof WorkflowFailedError) {
        return { runId, status: 'failed', reason: err.cause?.message ?? err.message };
      }
      throw err;
    }
  }

  /**
   * Runs, newest first; one entry per run id (the latest execution after continue-as-new).
   * `filter.where`: a Temporal visibility query, ANDed with the workflow type (a query the server
   * refuses is a UsageError with its reason); `filter.running`: running executions only.
   */
  async list(limit = 200, filter: { where?: string; running?: boolean; memo?: boolean } = {}): Promise<RunListEntry[]> {
    const seen = new Map<string, RunListEntry>();
    let query = `WorkflowType = '${WORKFLOW_TYPE}'`;
    if (filter.running) query += ` AND ExecutionStatus = 'Running'`;
    if (filter.where !== undefined) query += ` AND (${filter.where})`;
    try {
      for await (const wf of this.client.workflow.list({ query })) {
        if (seen.has(wf.workflowId)) continue;
        seen.set(wf.workflowId, filter.memo ? { ...listEntry(wf), memo: wf.memo ?? {} } : listEntry(wf));
        if (seen.size >= limit) break;
      }
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown; details?: unknown } }).cause;
      if (filter.where !== undefined && err instanceof ServiceError && cause?.code === 3 /* grpc INVALID_ARGUMENT */) {
        throw new UsageError(`the server refused the query "${filter.where}": ${String(cause.details || err.message)}`);
      }
      throw err;
    }
    return [...seen.values()];
  }
}

function isGoneLocalProcess(identity: string, workerId: string): boolean {
  const m = /^(.*):(\d+)$/.exec(identity);
  if (!m || m[1] !== workerId) return false;
  try {
    process.kill(Number(m[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function startingGoal(input: RunInput, now: Date): Goal {
  const at = now.toISOString();
  return {
    objective: input.objective,
    status: 'active',
    tokenBudget: input.tokenBudget,
    tokensUsed: 0,
    tokensEstimated: false,
    timeUsedSeconds: 0,
    remainingTokens: input.tokenBudget,
    createdAt: at,
    updatedAt: at,
    statusReason: null,
    costBudgetUsd: input.costBudgetUsd ?? null,
    costUsd: 0,
    unpricedCalls: 0,
    remainingCostUsd: input.costBudgetUsd ?? null,
  };
}

function listEntry(wf: WorkflowExecutionInfo): RunListEntry {
  const sa = wf.typedSearchAttributes;
  return {
    runId: wf.workflowId,
    status: wf.status.name.toLowerCase(),
    goalStatus: sa.get(GOAL_STATUS_KEY) ?? null,
    phase: sa.get(PHASE_KEY) ?? null,
    tokensUsed: sa.get(TOKENS_USED_KEY) ?? null,
    startedAt: wf.startTime?.toISOString() ?? null,
    closedAt: wf.closeTime?.toISOString() ?? null,
  };
}
