/** The small, serializable state of a run: all a continue-as-new carries. */
import type { NewItem, RunOwner, RunProject } from '../protocol/activities';
import type { ApprovalDecision, PendingApproval } from '../protocol/approval';
import type { McpToolInfo } from '../protocol/mcp';
import type { RunOutcome } from '../protocol/outcome';
import type { OutputSchemaName } from '../protocol/outputSchemas';
import type { Phase, PlanStep, RoleStats, RunEvent } from '../protocol/progress';
import type { GoalState } from './goal';
import type { WatchdogState } from './watchdog';

export interface RoleState {
  generation: number;
  /** Transcript lines committed by the workflow (the claim-check of decision 1). */
  committedLength: number;
  /** The last request reached the auto-compact limit: compact before the next step. */
  compactionDue: boolean;
  stats: RoleStats;
}

/** Calls waiting for a person, and the last decisions (docs/behaviour.md §7.8). */
export interface ApprovalState {
  pending: PendingApproval[];
  decided: ApprovalDecision[];
}

export interface RunState {
  runDir: string;
  sandbox: 'bwrap' | 'none';
  models: Record<string, string>;
  createdAt: string;
  goal: GoalState;
  roles: Record<string, RoleState>;
  phase: Phase;
  activeRole: string | null;
  events: RunEvent[];
  lastEventSeq: number;
  plan: { explanation: string | null; steps: PlanStep[] };
  verificationRounds: number;
  continueAsNewCount: number;
  /** Items for the Solver's next model step. */
  pendingSolverItems: NewItem[];
  pendingSchema: OutputSchemaName;
  /** Tool calls made so far in the Solver's current turn (idle detection). */
  turnToolCalls: number;
  /** Model steps made so far in the Solver's current turn (bounded by maxStepsPerTurn). */
  turnSteps: number;
  /** 0: working; 1: continuation sent; 2: finalization sent. */
  idleStage: 0 | 1 | 2;
  malformedStreak: number;
  invalidDeliveryStreak: number;
  budgetNoticeSent: boolean;
  /** Solver turns ended since the budget-limit message. */
  graceTurnsUsed: number;
  /** Model calls (every role) made since the goal became budget-limited. */
  graceModelCalls: number;
  steerQueue: string[];
  /** The objective was changed (update setGoal): the Solver hears it with its next model step. */
  objectiveUpdatePending: boolean;
  outcome?: RunOutcome;
  /** The convergence watchdog (docs/behaviour.md §3.7); absent in runs from before it, created when first needed. */
  watchdog?: WatchdogState;
  /** Local storage: the worker whose disk holds the run; its activities go to its queue (absent: any worker). */
  owner?: RunOwner | null;
  /** The owner has not taken the run's work for a while (set while waiting). */
  waitingForWorker?: string | null;
  /** A project run (docs/behaviour.md §4.4): where the project is and the Solver works, how it delivers. */
  project?: RunProject;
  /** Calls waiting for a person and the last decisions (docs/behaviour.md §7.8); absent until the first gated call. */
  approvals?: ApprovalState;
  /** The MCP tools frozen at the run's start (docs/architecture.md decision 17); absent: none. */
  mcpTools?: McpToolInfo[];
}

/** What a run started before the goal owned the hold carried into a continue-as-new. */
export type CarriedState = Omit<RunState, 'objectiveUpdatePending'> & { hold?: string | null; graceStepsUsed?: number; objectiveUpdatePending?: boolean };

export const MAX_EVENTS = 200;

export function newRoleStats(model: string): RoleStats {
  return {
    turns: 0,
    modelCalls: 0,
    toolCalls: 0,
    tokensUsed: 0,
    inputTokens: 0,
    cachedInputTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    compactions: 0,
    model,
    lastInputTokens: 0,
  };
}

/** What the Solver's next model step receives, or how the run ends. */
export type SolverNext = { items: NewItem[]; schema: OutputSchemaName } | { outcome: RunOutcome };
