import type { ReasoningItem, ToolCall, Usage } from '../../protocol/items';
import type { ToolDefinition } from '../../protocol/tools';
import type { ConversationItem } from '../normalize';

export interface WireRequest {
  model: string;
  instructions: string;
  items: ConversationItem[];
  tools: ToolDefinition[];
  /** 'none': tools are listed (for the prompt cache) but the model may not call them. */
  toolChoice?: 'none';
  outputSchema: { name: string; schema: Record<string, unknown> } | null;
  promptCacheKey: string;
  stream: boolean;
  /** The role's reasoning effort (the `openai` package's ReasoningEffort values); omitted: the model's default. */
  reasoningEffort?: ReasoningEffortName;
}

/** The values of the `openai` package's ReasoningEffort type. */
export type ReasoningEffortName = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** One output item of a reply, in the order the model produced it. */
export type WireOutputItem = ReasoningItem | { type: 'message'; role: 'assistant'; text: string } | ({ type: 'function_call' } & ToolCall);

export interface WireResult {
  /** All assistant text of the reply, joined (null: none). */
  text: string | null;
  toolCalls: ToolCall[];
  /** Reasoning, message and function calls in the order the model produced them (what the transcript keeps). */
  output: WireOutputItem[];
  /**
   * Set when the reply stopped early (Responses `status: "incomplete"`, e.g. `max_output_tokens`;
   * Chat `finish_reason: "length"`): the partial output is kept and the caller may continue the turn.
   */
  incomplete?: { reason: string };
  usage: Usage;
  /** The model the endpoint says answered (the response's `model` field), when it named one. */
  model?: string;
}

/** A parsed reply before usage is settled: `usage` is null when the endpoint reported none. */
export interface ParsedReply {
  reply: Omit<WireResult, 'usage'>;
  usage: Usage | null;
}

export interface CallOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Called whenever data arrives, so the activity heartbeats while tokens stream. */
  onData: () => void;
  /** Streamed assistant text and tool-call arguments as they arrive (the live view); not called for a reply that is not streamed. */
  onText?: (delta: string) => void;
  /** A streamed tool call begins (its name). */
  onCall?: (name: string) => void;
}
