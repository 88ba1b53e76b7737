/** The scripted server's `POST /responses/compact`, through the real `openai` client. */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCompaction, sealCompaction, validateCompactRequest } from '../../src/fakeModel/compactWire';
import { type FakeModelServer, startFakeModelServer } from '../../src/fakeModel/server';

let s: FakeModelServer;
let without: FakeModelServer;
let client: OpenAI;

beforeAll(async () => {
  s = await startFakeModelServer({
    responder: (req) =>
      req.body.input?.length === 0
        ? { kind: 'error', status: 503, message: 'down' }
        : { kind: 'message', text: 'the summary', usage: { inputTokens: 100, outputTokens: 7 } },
  });
  without = await startFakeModelServer({ responder: () => ({ kind: 'message', text: 'x' }), responsesCompact: false } as Parameters<
    typeof startFakeModelServer
  >[0]);
  client = new OpenAI({ baseURL: s.baseUrl, apiKey: 'k', maxRetries: 0 });
});
afterAll(async () => Promise.all([s.close(), without.close()]));

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: unknown) => (e instanceof OpenAI.APIError ? e.status : -1),
  );

describe('/responses/compact on the scripted server', () => {
  it('answers the user messages followed by one opaque compaction item, with usage', async () => {
    const res = await client.responses.compact({
      model: 'gpt-5.1-codex',
      instructions: 'You are the Solver.',
      input: [
        { role: 'user', content: 'first' },
        { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        { role: 'assistant', content: 'done' },
        { role: 'user', content: [{ type: 'input_text', text: 'second' }] },
      ],
    });
    expect(res.object).toBe('response.compaction');
    expect(res.output.map((i) => i.type)).toEqual(['message', 'message', 'compaction']);
    expect(res.output[1]).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'second' }] });
    const item = res.output[2] as OpenAI.Responses.ResponseCompactionItem;
    expect(openCompaction(item.encrypted_content)).toBe('the summary');
    expect(res.usage).toMatchObject({ input_tokens: 100, output_tokens: 7, total_tokens: 107 });
    expect(s.requests.at(-1)).toMatchObject({ path: '/v1/responses/compact', wire: 'responses', status: 'completed' });

    // The issued item is accepted back in a later compaction; a forged one is not.
    expect(await status(client.responses.compact({ model: 'm', input: [{ type: 'compaction', encrypted_content: item.encrypted_content }] }))).toBe(200);
    expect(await status(client.responses.compact({ model: 'm', input: [{ type: 'compaction', encrypted_content: 'forged' }] }))).toBe(400);
  });

  it('validates requests like OpenAI: model and input required, no unknown parameters, outputs need their calls', async () => {
    expect(await status(client.responses.compact({ input: 'hi' } as never))).toBe(400);
    expect(await status(client.responses.compact({ model: 'm' }))).toBe(400);
    expect(await status(client.responses.compact({ model: 'm', input: 'hi', stream: true } as never))).toBe(400);
    expect(await status(client.responses.compact({ model: 'm', input: [{ type: 'function_call_output', call_id: 'nope', output: 'x' }] }))).toBe(400);
    expect(validateCompactRequest({ model: 'm', input: [], tool_choice: 'none' })).toMatchObject({ code: 'unknown_parameter', param: 'tool_choice' });
    expect(validateCompactRequest({ model: 'm', input: [{ role: 'robot', content: 'x' }] })).toMatchObject({ param: 'input[0].role' });
    expect(validateCompactRequest({ model: 'm', input: [{ type: 'compaction', encrypted_content: sealCompaction('s') }] })).toBeNull();
    expect(s.requests.filter((r) => r.fault === 'invalid_request').length).toBeGreaterThanOrEqual(4);
  });

  it("passes the responder's errors through", async () => {
    expect(await status(client.responses.compact({ model: 'm', input: [] }))).toBe(503);
  });

  it('a server started with responsesCompact: false has no such endpoint (404, recorded)', async () => {
    const other = new OpenAI({ baseURL: without.baseUrl, apiKey: 'k', maxRetries: 0 });
    expect(await status(other.responses.compact({ model: 'm', input: 'hi' }))).toBe(404);
    expect(without.requests).toMatchObject([{ path: '/v1/responses/compact', status: 'fault', fault: 'not_found' }]);
  });
});
