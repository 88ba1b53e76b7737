/** Chat Completions replies as ordered output items: `reasoning_content` (vLLM, DeepSeek; `reasoning` on some servers) first. */
import type { ToolCall } from '../../protocol/items';
import { completeCallsOnly } from './incomplete';
import type { ParsedReply, WireOutputItem } from './types';

/** The reasoning text of an assistant message or stream delta, when the server sent one. */
export function reasoningOf(message: unknown): string | null {
  const m = message as { reasoning_content?: unknown; reasoning?: unknown } | null | undefined;
  const value = m?.reasoning_content ?? m?.reasoning;
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Reasoning, then text, then tool calls; `finish_reason: "length"` marks the reply incomplete (`max_output_tokens`). */
export function chatOutput(reasoning: string | null, text: string | null, toolCalls: ToolCall[], finishReason: string | null): ParsedReply['reply'] {
  let output: WireOutputItem[] = [];
  if (reasoning) output.push({ type: 'reasoning', summary: [reasoning] });
  if (text) output.push({ type: 'message', role: 'assistant', text });
  for (const c of toolCalls) output.push({ type: 'function_call', ...c });
  const incomplete = finishReason === 'length' ? { reason: 'max_output_tokens' } : finishReason === 'content_filter' ? { reason: 'content_filter' } : undefined;
  if (incomplete) output = completeCallsOnly(output);
  const calls = output.flatMap((i) => (i.type === 'function_call' ? [{ callId: i.callId, name: i.name, arguments: i.arguments }] : []));
  return { text, toolCalls: calls, output, ...(incomplete ? { incomplete } : {}) };
}
