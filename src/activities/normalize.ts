/**
 * History normalization before every request (docs/behaviour.md §6): every tool call gets an output ("aborted"
 * when missing), outputs without a call are dropped, and a reasoning item goes only together with
 * the model output it preceded. Pure and stable: the same transcript always yields the same items,
 * so consecutive requests share an exact prefix.
 */
import type { TranscriptItem } from '../protocol/items';

export type ConversationItem = Exclude<TranscriptItem, { type: 'instructions' } | { type: 'step_end' }>;

/** The first item after `i` that is not reasoning. */
function nextNonReasoning(items: ConversationItem[], i: number): ConversationItem | undefined {
  for (let j = i + 1; j < items.length; j++) if (items[j]!.type !== 'reasoning') return items[j];
  return undefined;
}

/** Whether `item` is model output a reasoning item may precede (an assistant message or a function call). */
function isModelOutput(item: ConversationItem | undefined): boolean {
  return item?.type === 'function_call' || (item?.type === 'message' && item.role === 'assistant');
}

export function normalizeHistory(items: TranscriptItem[]): { instructions: string; items: ConversationItem[] } {
  const instructions = items.flatMap((i) => (i.type === 'instructions' ? [i.text] : [])).join('\n\n');
  const conversation = items.filter((i): i is ConversationItem => i.type !== 'instructions' && i.type !== 'step_end');
  const calls = new Set(conversation.flatMap((i) => (i.type === 'function_call' ? [i.callId] : [])));
  const answered = new Set(conversation.flatMap((i) => (i.type === 'function_call_output' ? [i.callId] : [])));
  const out: ConversationItem[] = [];
  let unanswered: string[] = [];
  const flush = () => {
    for (const callId of unanswered) out.push({ type: 'function_call_output', callId, output: 'aborted' });
    unanswered = [];
  };
  conversation.forEach((item, i) => {
    if (item.type === 'reasoning') {
      const next = nextNonReasoning(conversation, i);
      // A reasoning item left without what it preceded (a reply cut short) is not sent.
      if (!isModelOutput(next)) return;
      // Reasoning between parallel calls stays inside their group; otherwise the group's aborted outputs come first.
      if (next?.type !== 'function_call') flush();
      out.push(item);
      return;
    }
    if (item.type !== 'function_call') flush();
    if (item.type === 'function_call_output' && !calls.has(item.callId)) return;
    out.push(item);
    if (item.type === 'function_call' && !answered.has(item.callId)) unanswered.push(item.callId);
  });
  flush();
  return { instructions, items: out };
}
