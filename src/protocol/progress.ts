import type { ApprovalsView } from './approval';
import type { Goal } from './goal';
import type { McpServer } from './mcp';
import type { RunOutcome, TerminalStatus } from './outcome';
import type { ReasoningEffort } from './reasoning';

export type Phase = 'starting' | 'solving' | 'directing' | 'validating' | 'verifying' | 'paused' | 'awaiting_approval' | 'waiting_for_worker' | 'finished';

export type EventKind =
  | 'run_started'
  | 'objective_posted'
  | 'tool_call'
  | 'solver_message'
  | 'direction_request'
  | 'directive'
  | 'delivery'
  | 'delivery_invalid'
  | 'verdict'
  | 'verification'
  | 'deliverable_changed'
  | 'malformed_signal'
  | 'continuation'
  | 'finalization'
  | 'steer'
  | 'objective_updated'
  | 'paused'
  | 'resumed'
  | 'budget'
  | 'budget_limited'
  | 'compaction'
  | 'model_error'
  | 'continued_as_new'
  | 'turn_cut'
  | 'not_converging'
  | 'output_cut'
  | 'waiting_for_worker'
  | 'worker_returned'
  | 'forked'
  | 'snapshot_failed'
  | 'mcp_tools'
  | 'mcp_server_failed'
  | 'approval_requested'
  | 'approval_decided'
  | 'outcome';

export interface RunEvent {
  seq: number;
  at: string;
  kind: EventKind;
  role?: string;
  message: string;
  /** `tool_call`: the tool, and what the call does in a few words (the command, the path); absent in older runs. */
  tool?: { name: string; detail: string };
}

export interface RoleStats {
  turns: number;
  modelCalls: number;
  toolCalls: number;
  tokensUsed: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  compactions: number;
  /** The model requested for the role. */
  model: string;
  lastInputTokens: number;
  /** The model the endpoint said answered the role's last model step (its response's `model`); absent until known, and in older runs. */
  answeringModel?: string;
  /** Dollars of the role's priced model calls (docs/behaviour.md §5.2); absent in runs from before cost was counted. */
  pricedCostUsd?: number;
  /** The role's model calls whose model has no known price. */
  unpricedCalls?: number;
}

export interface PlanStep {
  step: string;
  status: 'pending' | 'in_progress' | 'completed';
}

/**
 * Who can release a hold (docs/behaviour.md §5.4): `user`, `infty pause`; `endpoint`, model retries ran
 * out or no endpoint is configured; `steer`, stalled or not converging; `ended`, the run ended
 * undelivered; `other`, a hold recorded before kinds were.
 */
export type HoldKind = 'user' | 'endpoint' | 'steer' | 'ended' | 'other';

export interface RunHold {
  kind: HoldKind;
  reason: string;
}

export interface Progress {
  runId: string;
  status: 'running' | TerminalStatus;
  phase: Phase;
  /** Local storage: the worker whose disk holds the run's files (null: shared storage, or a run from before). */
  owner: { workerId: string; taskQueue: string } | null;
  /** Set while the run waits for its owner worker to come back. */
  waitingForWorker: string | null;
  activeRole: string | null;
  /** A fork: the source run and the Solver turn it was forked at (docs/architecture.md decision 13); null otherwise. */
  forkOf: { runId: string; turn: number } | null;
  /** The run input's MCP servers (docs/behaviour.md §7.6), which a fork takes over; absent from older workers. */
  mcpServers?: McpServer[];
  objective: string;
  runDir: string | null;
  sandbox: 'bwrap' | 'none' | null;
  goal: Goal;
  /** Why the run is held and who can release it; null while it may work; absent from older workers. */
  hold?: RunHold | null;
  /**
   * Per role: statistics, the reasoning effort requested (null: the model's default), and its cost in
   * dollars (null: "price unknown", some call's model has no known price; absent from older workers).
   */
  roles: Record<string, RoleStats & { generation: number; reasoningEffort: ReasoningEffort | null; costUsd?: number | null }>;
  plan: { explanation: string | null; steps: PlanStep[] };
  verificationRounds: number;
  continueAsNewCount: number;
  events: RunEvent[];
  /** seq of the newest event ever emitted (events holds only the most recent ones). */
  lastEventSeq: number;
  /** The approval policy, what waits for a person and the last decisions (docs/behaviour.md §7.8); absent from older workers. */
  approvals?: ApprovalsView;
  outcome?: RunOutcome;
}
