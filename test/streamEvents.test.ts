/**
 * The scripted endpoint streams event for event what the Responses and Chat APIs stream: every
 * event checked against the `openai` package's declarations, numbered, tied to its output item, and
 * accumulated by the SDK's own stream helpers into the same result the non-streamed reply gives.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { declared, fieldMismatch, responseStreamEvents } from './support/openaiTypes';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const REPLIES: Record<string, Extract<ScriptedReply, { kind: 'message' | 'tool_calls' }>> = {
  'reasoning, text and calls': {
    kind: 'tool_calls',
    text: 'Let me look at the files first.',
    calls: [
      { name: 'read_file', arguments: { path: 'README.md' } },
      { name: 'list_dir', arguments: { path: '.' } },
    ],
    reasoning: ['The user wants the line count.', 'Listing helps too.'],
  },
  'an incomplete message': { kind: 'message', text: 'The answer is forty', incomplete: 'max_output_tokens', reasoning: ['Counting.'] },
};

/** Ids carry the request's sequence number; two requests' replies compare equal without it. */
const sansSeq = (v: unknown): unknown =>
  // The SDK's stream helper adds `parsed` / `parsed_arguments` (null); not on the wire.
  JSON.parse(JSON.stringify(v ?? null, (k, x) => (k === 'parsed' || k === 'parsed_arguments' ? undefined : x)).replace(/\b(rs|msg|fc|call)_\d+/g, '$1_N'));

async function rawEvents(url: string, body: unknown): Promise<{ event?: string; data: string }[]> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const event = frame.match(/^event: (.*)$/m)?.[1];
      return { ...(event ? { event } : {}), data: frame.match(/^data: (.*)$/m)![1]! };
    });
}

const responsesBody = { model: 'm', input: 'hi', store: false, include: ['reasoning.encrypted_content'] };

describe.each(Object.entries(REPLIES))('streaming %s', (_name, reply) => {
  it('follows the Responses event types, numbering and item ids', async () => {
    server = await startFakeModelServer({ responder: () => reply });
    const declaredEvents = responseStreamEvents();
    const frames = await rawEvents(`${server.baseUrl}/responses`, { ...responsesBody, stream: true });
    const events = frames.map((f) => ({ ...JSON.parse(f.data), sseEvent: f.event }) as Record<string, any>);
    const itemIds = new Map<number, string>();
    events.forEach((e, i) => {
      expect(e.sseEvent).toBe(e.type);
      expect(e.sequence_number).toBe(i);
      const d = declaredEvents.get(e.type);
      expect(d, `event ${e.type} is a ResponseStreamEvent`).toBeDefined();
      const { sseEvent: _e, ...fields } = e;
      expect(fieldMismatch(fields, d!), e.type).toEqual({ missing: [], unknown: [] });
      if (e.type === 'response.output_item.added') itemIds.set(e.output_index, e.item.id);
      else if ('item_id' in e) expect(e.item_id).toBe(itemIds.get(e.output_index));
    });
    const terminal = events[events.length - 1]!;
    expect(terminal.type).toBe(reply.incomplete ? 'response.incomplete' : 'response.completed');

    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'k', maxRetries: 0 });
    const streamed = await client.responses.stream(responsesBody as never).finalResponse();
    const plain = await client.responses.create(responsesBody as never);
    expect(sansSeq(streamed.output)).toEqual(sansSeq((plain as { output: unknown }).output));
    expect(streamed.status).toBe(reply.incomplete ? 'incomplete' : 'completed');
  });

  it('follows the Chat chunk format', async () => {
    server = await startFakeModelServer({ responder: () => reply });
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const frames = await rawEvents(`${server.baseUrl}/chat/completions`, body);
    expect(frames[frames.length - 1]!.data).toBe('[DONE]');
    const chunkDecl = declared('resources/chat/completions/completions.d.ts', 'ChatCompletionChunk');
    for (const f of frames.slice(0, -1)) {
      const chunk = JSON.parse(f.data);
      expect(fieldMismatch(chunk, chunkDecl)).toEqual({ missing: [], unknown: [] });
      expect(chunk.object).toBe('chat.completion.chunk');
    }
    const client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'k', maxRetries: 0 });
    const final = await client.chat.completions.stream(body as never).finalChatCompletion();
    const plain = await client.chat.completions.create({ ...body, stream: false } as never);
    const choice = (plain as unknown as { choices: { message: Record<string, unknown>; finish_reason: string }[] }).choices[0]!;
    expect(final.choices[0]!.finish_reason).toBe(choice.finish_reason);
    expect(final.choices[0]!.message.content).toBe(choice.message.content);
    // The SDK's accumulator does not join vLLM's `reasoning_content` deltas; joined by hand here.
    const deltas = frames
      .slice(0, -1)
      .map((f) => JSON.parse(f.data).choices[0]?.delta?.reasoning_content ?? '')
      .join('');
    expect(deltas).toBe(choice.message.reasoning_content);
    expect(sansSeq(final.choices[0]!.message.tool_calls ?? [])).toEqual(sansSeq(choice.message.tool_calls ?? []));
  });
});
