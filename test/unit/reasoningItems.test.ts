import { describe, expect, it } from 'vitest';
import { outputItems } from '../../src/activities/model';
import { normalizeHistory } from '../../src/activities/normalize';
import { toChatMessages } from '../../src/activities/wire/chat';
import { toResponsesInput } from '../../src/activities/wire/responses';
import type { WireRequest } from '../../src/activities/wire/types';
import type { TranscriptItem } from '../../src/protocol/items';

const user = (text: string): TranscriptItem => ({ type: 'message', role: 'user', text });
const think = (id: string, enc?: string): TranscriptItem => ({ type: 'reasoning', id, ...(enc ? { encryptedContent: enc } : {}), summary: [id] });
const fc = (callId: string): TranscriptItem => ({ type: 'function_call', callId, name: 'f', arguments: '{}' });
const out = (callId: string, output = 'ok'): TranscriptItem => ({ type: 'function_call_output', callId, output });
const kinds = (items: TranscriptItem[]) =>
  items.map((i) => (i.type === 'reasoning' ? `r:${i.id}` : i.type === 'function_call_output' ? `out:${i.callId}:${i.output}` : i.type));

describe('normalization keeps reasoning with what it preceded', () => {
  it('keeps reasoning before calls and messages, inside a group of calls too', () => {
    const { items } = normalizeHistory([
      user('u'),
      think('a'),
      fc('1'),
      think('b'),
      fc('2'),
      out('1'),
      out('2'),
      think('c'),
      { type: 'message', role: 'assistant', text: 'x' },
    ]);
    expect(kinds(items)).toEqual(['message', 'r:a', 'function_call', 'r:b', 'function_call', 'out:1:ok', 'out:2:ok', 'r:c', 'message']);
  });

  it('gives unanswered calls their aborted outputs after the whole group', () => {
    const { items } = normalizeHistory([user('u'), think('a'), fc('1'), think('b'), fc('2'), user('steer')]);
    expect(kinds(items)).toEqual(['message', 'r:a', 'function_call', 'r:b', 'function_call', 'out:1:aborted', 'out:2:aborted', 'message']);
  });

  it('drops reasoning left without what it preceded (a reply cut short)', () => {
    expect(kinds(normalizeHistory([user('u'), think('a')]).items)).toEqual(['message']);
    expect(kinds(normalizeHistory([user('u'), think('a'), user('again')]).items)).toEqual(['message', 'message']);
  });
});

describe('reasoning and compaction items per wire API', () => {
  const req = (items: WireRequest['items']): WireRequest => ({
    model: 'm',
    instructions: 'i',
    items,
    tools: [],
    outputSchema: null,
    promptCacheKey: 'k',
    stream: false,
  });

  it('Responses: reasoning goes back with its encrypted content (not without), compaction as is', () => {
    const items = normalizeHistory([
      { type: 'compaction', encryptedContent: 'C' },
      user('u'),
      think('a', 'E'),
      fc('1'),
      out('1'),
      think('b'),
      { type: 'message', role: 'assistant', text: 'x' },
    ]).items;
    expect(toResponsesInput(req(items))).toEqual([
      { type: 'compaction', encrypted_content: 'C' },
      { role: 'user', content: 'u' },
      { type: 'reasoning', id: 'a', encrypted_content: 'E', summary: [{ type: 'summary_text', text: 'a' }] },
      { type: 'function_call', call_id: '1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: '1', output: 'ok' },
      { role: 'assistant', content: 'x' },
    ]);
  });

  it('Chat: reasoning rides on the next assistant message; compaction is not sent; developer falls back to user', () => {
    const items = normalizeHistory([
      { type: 'compaction', encryptedContent: 'C' },
      { type: 'message', role: 'developer', text: 'd' },
      think('a'),
      fc('1'),
      out('1'),
    ]).items;
    expect(toChatMessages(req(items))).toEqual([
      { role: 'system', content: 'i' },
      { role: 'developer', content: 'd' },
      { role: 'assistant', content: null, reasoning_content: 'a', tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: '1', content: 'ok' },
    ]);
    const fallback = toChatMessages(req(items), { developer: false, reasoningContent: false });
    expect(fallback[1]).toEqual({ role: 'user', content: 'd' });
    expect(fallback[2]).not.toHaveProperty('reasoning_content');
  });
});

describe('outputItems', () => {
  it('writes the reply in the order the model produced it', () => {
    const items = outputItems({
      text: 'x',
      toolCalls: [{ callId: '1', name: 'f', arguments: '{}' }],
      output: [
        { type: 'reasoning', id: 'rs', encryptedContent: 'E', summary: ['s'] },
        { type: 'message', role: 'assistant', text: 'x' },
        { type: 'function_call', callId: '1', name: 'f', arguments: '{}' },
      ],
      usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 },
    });
    expect(items).toEqual([
      { type: 'reasoning', id: 'rs', encryptedContent: 'E', summary: ['s'] },
      { type: 'message', role: 'assistant', text: 'x' },
      { type: 'function_call', callId: '1', name: 'f', arguments: '{}' },
    ]);
  });
});
