/** Reads a recorded request's conversation in one shape for both wire APIs (for stateless scripts). */
import type { RecordedRequest } from './types';

export type Turn =
  | { kind: 'user' | 'assistant' | 'system'; text: string }
  | { kind: 'call'; name: string; arguments: string; callId: string }
  | { kind: 'output'; callId: string; text: string };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

export function conversationOf(req: RecordedRequest): Turn[] {
  const turns: Turn[] = [];
  if (req.wire === 'responses') {
    if (typeof req.body.instructions === 'string') turns.push({ kind: 'system', text: req.body.instructions });
    for (const item of req.body.input ?? []) {
      if (item.type === 'function_call') turns.push({ kind: 'call', name: item.name, arguments: item.arguments, callId: item.call_id });
      else if (item.type === 'function_call_output') turns.push({ kind: 'output', callId: item.call_id, text: String(item.output) });
      else if (item.role) turns.push({ kind: item.role === 'developer' ? 'system' : item.role, text: textOf(item.content) });
    }
    return turns;
  }
  for (const m of req.body.messages ?? []) {
    if (m.role === 'tool') turns.push({ kind: 'output', callId: m.tool_call_id, text: textOf(m.content) });
    else {
      const text = textOf(m.content);
      if (text || m.role !== 'assistant') turns.push({ kind: m.role === 'developer' ? 'system' : m.role, text });
      for (const c of m.tool_calls ?? []) turns.push({ kind: 'call', name: c.function.name, arguments: c.function.arguments, callId: c.id });
    }
  }
  return turns;
}

/** The user messages of a conversation, oldest first. */
export function userMessages(turns: Turn[]): string[] {
  return turns.flatMap((t) => (t.kind === 'user' ? [t.text] : []));
}

/** Turns after the last user message. */
export function sinceLastUser(turns: Turn[]): Turn[] {
  let i = turns.length - 1;
  while (i >= 0 && turns[i]!.kind !== 'user') i--;
  return turns.slice(i + 1);
}
