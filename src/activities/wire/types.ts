import type { ToolCall, Usage } from '../../protocol/items';
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
}

export interface WireResult {
  text: string | null;
  toolCalls: ToolCall[];
  usage: Usage;
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
}
