/** One line of a role's transcript (JSONL). Wire-agnostic; converted per API at request time. */
export type TranscriptItem =
  | { type: 'instructions'; text: string }
  /** `developer`: orchestrator-injected instructions (continuation, budget limit, corrections, …). */
  | { type: 'message'; role: 'user' | 'assistant' | 'developer'; text: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'function_call_output'; callId: string; output: string }
  | ReasoningItem
  | CompactionItem
  | StepEnd;

/**
 * A model's reasoning, kept in order so it goes back with later requests (Responses API with
 * `store: false` and `include: ["reasoning.encrypted_content"]`; Chat servers' `reasoning_content`).
 */
export interface ReasoningItem {
  type: 'reasoning';
  /** The Responses API item id, when the endpoint gave one. */
  id?: string;
  /** Opaque, from `reasoning.encrypted_content` (Responses). */
  encryptedContent?: string;
  /** Reasoning summary parts (Responses) or the plain `reasoning_content` text (Chat). */
  summary: string[];
}

/** The opaque item a remote compaction (`POST /responses/compact`) returns; sent back as is. */
export interface CompactionItem {
  type: 'compaction';
  encryptedContent: string;
}

/**
 * The last line of a model step (or of a compacted generation): what a retried attempt needs to
 * reuse the step instead of calling the model again. Not part of the conversation.
 */
export interface StepEnd {
  type: 'step_end';
  /** sha256 of the step's request inputs (new items, model, tools, schema). */
  input_sha256: string;
  usage: Usage;
  /** Compaction only: items dropped to fit the summary request. */
  dropped_items?: number;
  /** The reply stopped early (`max_output_tokens`, `content_filter`): kept so a reused step says so too. */
  incomplete?: string;
  /** The model the endpoint said answered (its response's `model`), when it named one. */
  model?: string;
}

export interface ToolCall {
  callId: string;
  name: string;
  arguments: string;
}

export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** True when the endpoint reported no usage and the counts were estimated with a tokenizer. */
  estimated?: boolean;
}

/** Goal accounting: non-cached input plus output (output already includes reasoning). */
export function billableTokens(u: Usage): number {
  return Math.max(0, u.inputTokens - u.cachedInputTokens) + u.outputTokens;
}

export function userMessage(text: string): TranscriptItem {
  return { type: 'message', role: 'user', text };
}

/** `<role>.jsonl` for generation 0, `<role>.<generation>.jsonl` after a rotation or compaction. */
export function transcriptFileName(role: string, generation: number): string {
  return generation === 0 ? `${role}.jsonl` : `${role}.${generation}.jsonl`;
}
