/** The activity interface the workflow calls (implemented in src/activities). Pure types. */
import type { DeliverableCheck } from './deliverable';
import type { ToolCall, TranscriptItem, Usage } from './items';
import type { OutputSchemaName } from './outputSchemas';

export type InstructionsSource = { kind: 'prompt'; name: 'solver' | 'director' | 'verifier' } | { kind: 'text'; text: string };

export interface ModelStepInput {
  runId: string;
  role: string;
  generation: number;
  /** Transcript lines the workflow has committed; anything after them is discarded first. */
  committedLength: number;
  newItems: NewItem[];
  model: string;
  /** Used only when the transcript is new (committedLength 0): written as its first line. */
  instructions: InstructionsSource;
  tools: string[];
  outputSchema: OutputSchemaName | null;
  demo: boolean;
  contextWindow?: number;
  autoCompactLimit?: number;
}

export interface ModelStepResult {
  length: number;
  text: string | null;
  toolCalls: ToolCall[];
  usage: Usage;
  /** The request's input tokens reached the auto-compact limit: compact before the next step. */
  compactionDue: boolean;
}

export interface CompactInput {
  runId: string;
  role: string;
  generation: number;
  committedLength: number;
  model: string;
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
}

export interface CreateRunInput {
  runId: string;
  objective: string;
  roles: { role: string; model: string | undefined }[];
  sandbox: 'auto' | 'none';
}

export interface CreateRunResult {
  runDir: string;
  sandbox: 'bwrap' | 'none';
  models: Record<string, string>;
  rolloutPaths: Record<string, string>;
  createdAt: string;
}

export interface UpdateRunRecordInput {
  runId: string;
  status?: string;
  roles?: { role: string; model: string; generation: number }[];
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
  runTool(input: ToolActivityInput): Promise<string>;
  validateDeliverable(input: { runDir: string; path: string }): Promise<DeliverableCheck>;
}

export type PromptTemplateName = 'continuation' | 'budget_limit' | 'finalization';

/**
 * What the workflow appends before a model step: transcript items, or a user message rendered by
 * the activity from a prompt template file (the workflow never embeds prompt text).
 */
export type NewItem = TranscriptItem | { type: 'prompt_message'; template: PromptTemplateName; vars: Record<string, string> };
