/** Builders for scripted model replies. */
import type { ScriptedReply, Usage } from './fakeModel';

export const say = (
  text: string,
  usage?: Partial<{ inputTokens: number; cachedInputTokens: number; outputTokens: number; reasoningTokens: number }>,
): ScriptedReply => ({
  kind: 'message',
  text,
  ...(usage ? { usage } : {}),
});

export const signal = (s: { type: string; prompt?: string | null; deliverable_path?: string | null; summary?: string | null }): ScriptedReply =>
  say(JSON.stringify({ prompt: null, deliverable_path: null, summary: null, ...s }));

export const deliver = (path: string, summary = 'done') => signal({ type: 'final_delivery', deliverable_path: path, summary });
export const withUsage = (reply: ScriptedReply, usage: Partial<Usage>): ScriptedReply =>
  reply.kind === 'fault' || reply.kind === 'error' ? reply : { ...reply, usage };
export const askDirection = (prompt: string) => signal({ type: 'direction_request', prompt });
export const directive = (d: string, rationale: string | null = null) => say(JSON.stringify({ directive: d, rationale }));
export const verdict = (v: 'pass' | 'fail', reasons: string[] = [], suggestions: string[] = []) => say(JSON.stringify({ verdict: v, reasons, suggestions }));

export const tools = (...calls: { name: string; arguments: Record<string, unknown> | string; callId?: string }[]): ScriptedReply => ({
  kind: 'tool_calls',
  calls,
});

export const shell = (cmd: string) => ({ name: 'shell', arguments: { command: ['bash', '-c', cmd] } });
export const addFile = (path: string, lines: string[]) => ({
  name: 'apply_patch',
  arguments: { input: ['*** Begin Patch', `*** Add File: ${path}`, ...lines.map((l) => `+${l}`), '*** End Patch'].join('\n') },
});
