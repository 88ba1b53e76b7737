/**
 * History normalization before every request (docs/behaviour.md §6): every tool call gets an output ("aborted"
 * when missing) and outputs without a call are dropped. Pure and stable: the same transcript
 * always yields the same items, so consecutive requests share an exact prefix.
 */
import type { TranscriptItem } from '../protocol/items';

export type ConversationItem = Exclude<TranscriptItem, { type: 'instructions' } | { type: 'step_end' }>;

export function normalizeHistory(items: TranscriptItem[]): { instructions: string; items: ConversationItem[] } {
  const instructions = items
    .flatMap((i) => (i.type === 'instructions' ? [i.text] : []))
    .join('\n\n');
  const conversation = items.filter((i): i is ConversationItem => i.type !== 'instructions' && i.type !== 'step_end');
  const calls = new Set(conversation.flatMap((i) => (i.type === 'function_call' ? [i.callId] : [])));
  const answered = new Set(conversation.flatMap((i) => (i.type === 'function_call_output' ? [i.callId] : [])));
  const out: ConversationItem[] = [];
  let unanswered: string[] = [];
  const flush = () => {
    for (const callId of unanswered) out.push({ type: 'function_call_output', callId, output: 'aborted' });
    unanswered = [];
  };
  for (const item of conversation) {
    if (item.type !== 'function_call') flush();
    if (item.type === 'function_call_output' && !calls.has(item.callId)) continue;
    out.push(item);
    if (item.type === 'function_call' && !answered.has(item.callId)) unanswered.push(item.callId);
  }
  flush();
  return { instructions, items: out };
}
