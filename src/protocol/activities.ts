/** The activity interface the workflow calls (implemented in src/activities). Pure types. */
import type { DeliverableCheck } from './deliverable';
import type { ToolCall, TranscriptItem, Usage } from './items';
import type { McpServer, McpToolInfo } from './mcp';
import type { OutputSchemaName } from './outputSchemas';
import type { ChangeSummary, DeliverMode, ProjectSource } from './project';
import type { ReasoningEffort } from './reasoning';

export type InstructionsSource = { kind: 'prompt'; name: 'solver' | 'director' | 'verifier' } | { kind: 'text'; text: string };

export interface ModelStepInput {
  runId: string;
  role: string;
  generation: number;
  /** Transcript lines the workflow has committed; anything after them is discarded first. */
  committedLength: number;
  newItems: NewItem[];
  model: string;
  /** The role's reasoning effort (WireRequest.reasoningEffort); absent: the model's default. */
  reasoningEffort?: ReasoningEffort;
  /** Used only when the transcript is new (committedLength 0): written as its first line. */
  instructions: InstructionsSource;
  tools: string[];
  outputSchema: OutputSchemaName | null;
  /** 'none': tools stay listed (the cached prefix) but may not be called: the turn must end now. */
  toolChoice?: 'none';
  demo: boolean;
  contextWindow?: number;
  autoCompactLimit?: number;
}

/**
 * A tool call as the workflow sees it. Arguments too large to pass through history stay in the
 * transcript (`argumentsInTranscript`), and the tool activity reads them from there.
 */
export interface StepToolCall extends ToolCall {
  argumentsInTranscript?: boolean;
}

export interface ModelStepResult {
  length: number;
  /** The final text, cut (head and tail, marked) when larger than the payload bounds allow. */
  text: string | null;
  toolCalls: StepToolCall[];
  usage: Usage;
  /** The request's input tokens reached the auto-compact limit: compact before the next step. */
  compactionDue: boolean;
  /** The reply stopped early (e.g. `max_output_tokens`): the turn continues instead of ending. */
  incomplete?: string;
  /** The model the endpoint said answered (its response's `model`); absent when it named none, and from older workers. */
  answeringModel?: string;
  /** The call's cost in US dollars from the worker's price table; null: no known price; absent from older workers (unknown too). */
  costUsd?: number | null;
}

export interface CompactInput {
  runId: string;
  role: string;
  generation: number;
  committedLength: number;
  model: string;
  /** The role's reasoning effort, as for its turns; absent: the model's default. */
  reasoningEffort?: ReasoningEffort;
  demo: boolean;
  /** The role's tools: offered (but not callable) so the request shares the turns' cached prefix. */
  tools: string[];
}

export interface CompactResult {
  /** The new transcript generation, holding the rebuilt history. */
  generation: number;
  length: number;
  usage: Usage;
  droppedItems: number;
  /** As ModelStepResult.costUsd. */
  costUsd?: number | null;
}

export interface CreateRunInput {
  runId: string;
  objective: string;
  roles: { role: string; model: string | undefined; reasoningEffort?: ReasoningEffort }[];
  sandbox: 'auto' | 'none';
  /** Create the run as a fork of this run at this Solver turn (docs/architecture.md decision 13). */
  forkOf?: { runId: string; turn: number };
  /** Start the run directory from this project (docs/behaviour.md §4.4). */
  project?: ProjectSource;
  /** false: read no AGENTS.md (docs/behaviour.md §4.5). */
  projectDocs?: boolean;
}

/** Where each role stands in its transcripts: the generation and the committed lines. */
export type RolePositions = Record<string, { generation: number; committedLength: number }>;

export interface SnapshotTurnInput {
  runId: string;
  runDir: string;
  /** The Solver turn just completed (1-based). */
  turn: number;
  roles: RolePositions;
}

export interface SnapshotTurnResult {
  turn: number;
  files: number;
  bytes: number;
  /** Bytes stored as new objects (files unchanged since any snapshot cost nothing). */
  newBytes: number;
  /** How the files were found: a walk of the whole tree, or only the paths a watcher saw change (docs/architecture.md decision 13). */
  scan?: 'tree' | 'changes';
}

/** The worker whose disk holds a run's files (local storage) and the task queue only it polls. */
export interface RunOwner {
  workerId: string;
  taskQueue: string;
}

export interface CreateRunResult {
  /** Set by a worker in local storage: every later activity of the run goes to this queue. */
  owner?: RunOwner;
  runDir: string;
  sandbox: 'bwrap' | 'none';
  models: Record<string, string>;
  rolloutPaths: Record<string, string>;
  createdAt: string;
  /** A fork: where each role of the source stood at the fork turn (its transcripts continue from there). */
  roles?: RolePositions;
  /** A project run: the project's root and the Solver's working directory (absolute), and how it delivers. */
  project?: RunProject;
}

export interface RunProject {
  root: string;
  workdir: string;
  deliver: DeliverMode;
}

export interface ProjectChangeInput {
  runId: string;
  runDir: string;
  project: RunProject;
  /** Also write the change as a patch to deliverable/changes.patch. */
  writePatch: boolean;
}

export interface ProjectChangeResult {
  summary: ChangeSummary;
  /** The patch, relative to the run directory (writePatch only). */
  patchPath?: string;
}

export interface UpdateRunRecordInput {
  runId: string;
  status?: string;
  /** `reasoningEffort` absent: keep what run.json says (runs started before it was recorded: none). */
  roles?: { role: string; model: string; generation: number; reasoningEffort?: ReasoningEffort | null }[];
  extra?: Record<string, unknown>;
}

export interface ToolActivityInput {
  runId: string;
  /** Unique per call instance (role, generation, transcript position, call id): the journal key. */
  journalKey: string;
  runDir: string;
  role: string;
  call: ToolCall;
  sandbox: 'bwrap' | 'none';
  allowNetwork: boolean;
}

/** Input of `runToolCall`: the output is journaled and returned by reference (recorded once in history). */
export interface ToolCallInput {
  runId: string;
  journalKey: string;
  runDir: string;
  role: string;
  /** The transcript generation holding the call (read from there when `argumentsInTranscript`). */
  generation: number;
  call: StepToolCall;
  sandbox: 'bwrap' | 'none';
  allowNetwork: boolean;
  passEnv: string[];
  /** Where relative paths and commands start (a project run's working directory); absent: the run directory. */
  workdir?: string;
  /** A person approved this call's escalation request (docs/behaviour.md §7.8): the command gets network access. */
  escalated?: boolean;
}

/** Where a tool's output is: the next model step reads it from the journal. */
export interface ToolOutputRef {
  journalKey: string;
  bytes: number;
  /** The call failed (a non-zero exit code, an error text); absent from results of workers before the convergence watchdog (docs/behaviour.md §3.7). */
  failed?: boolean;
  /** 12 hex digits of the output's sha256 (a shell result without its duration); absent as `failed` is. */
  fingerprint?: string;
  /** The tool itself failed (metrics' tool errors, docs/interface.md §14): set only then. */
  toolError?: ToolErrorKind;
}

/** A tool call whose tool failed: it was interrupted by a crash, failed inside the worker, or answered an error. */
export type ToolErrorKind = 'interrupted' | 'internal' | 'error_output';

export interface ListMcpToolsInput {
  runId: string;
  servers: McpServer[];
}

export interface ListMcpToolsResult {
  tools: McpToolInfo[];
  /** Servers that could not be listed, with why (the run goes on without their tools). */
  failures: { server: string; error: string }[];
  /** Tools left out (over the per-server limit, or a name taken twice), as `server/tool`. */
  dropped: string[];
}

export interface RecordItemsInput {
  runId: string;
  role: string;
  generation: number;
  committedLength: number;
  items: TranscriptItem[];
}

export interface InftyActivities {
  createRun(input: CreateRunInput): Promise<CreateRunResult>;
  updateRunRecord(input: UpdateRunRecordInput): Promise<void>;
  /** Appends items to a role's transcript without a model call; returns the new committed length. */
  recordItems(input: RecordItemsInput): Promise<number>;
  modelStep(input: ModelStepInput): Promise<ModelStepResult>;
  compact(input: CompactInput): Promise<CompactResult>;
  /** Before tool outputs went by reference; kept for activity tasks scheduled by older workers. */
  runTool(input: ToolActivityInput): Promise<string>;
  runToolCall(input: ToolCallInput): Promise<ToolOutputRef>;
  /** `workdir`: where a relative path starts (a project run's working directory); absent: the run directory. */
  validateDeliverable(input: { runDir: string; path: string; workdir?: string }): Promise<DeliverableCheck>;
  /** A project run's change against its base (docs/behaviour.md §4.4): its summary, and the patch when asked. */
  projectChange(input: ProjectChangeInput): Promise<ProjectChangeResult>;
  /** Lists the run's MCP servers' tools once, at its start, and freezes them on the owner's disk (docs/architecture.md decision 17). */
  listMcpTools(input: ListMcpToolsInput): Promise<ListMcpToolsResult>;
  /** Records the run directory's files after a Solver turn in the content-addressed store (docs/architecture.md decision 13). */
  snapshotTurn(input: SnapshotTurnInput): Promise<SnapshotTurnResult>;
}

export type PromptTemplateName =
  | 'continuation'
  | 'budget_limit'
  | 'finalization'
  | 'correction'
  | 'invalid_delivery'
  | 'objective_updated'
  | 'output_cut'
  | 'project_start'
  | 'mcp_unavailable';

/**
 * The message role each prompt template is sent with. Every template is an orchestrator-injected
 * instruction, so a `developer` message (docs/behaviour.md §6.3); the objective, steering, directives
 * and verification feedback are `user` messages the workflow writes as transcript items.
 */
export const PROMPT_TEMPLATE_ROLES: Record<PromptTemplateName, 'developer' | 'user'> = {
  continuation: 'developer',
  budget_limit: 'developer',
  finalization: 'developer',
  correction: 'developer',
  invalid_delivery: 'developer',
  objective_updated: 'developer',
  output_cut: 'developer',
  project_start: 'developer',
  mcp_unavailable: 'developer',
};

/**
 * What the workflow appends before a model step: transcript items, or a message rendered by the
 * activity from a prompt template file (the workflow never embeds prompt text).
 */
export type NewItem =
  | TranscriptItem
  | { type: 'prompt_message'; template: PromptTemplateName; vars: Record<string, string> }
  /** A tool's output, read by the model step from the tool journal (docs/architecture.md decision 9). */
  | { type: 'tool_output_ref'; callId: string; journalKey: string };
