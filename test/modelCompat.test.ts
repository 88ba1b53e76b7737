import { afterEach, describe, expect, it } from 'vitest';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { scriptByRole } from './support/modelScript';
import { say } from './support/replies';
import { callWire, endpointFor, failureOf, WIRE_VARIANTS, wireRequest } from './support/wireCall';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const CHAT_VARIANTS = WIRE_VARIANTS.filter((v) => v.wireApi === 'chat');

describe.each(CHAT_VARIANTS)('a Chat server that rejects prompt_cache_key (stream: $stream)', (v) => {
  it('gets the request again without the key, and never gets the key again', async () => {
    server = await startFakeModelServer({
      responder: scriptByRole({ solver: [say('first'), say('second')] }),
      chatUnsupportedParams: ['prompt_cache_key'],
    });
    const endpoint = endpointFor(server.baseUrl, v);
    expect((await callWire(endpoint, wireRequest(v.stream))).text).toBe('first');
    expect((await callWire(endpoint, wireRequest(v.stream))).text).toBe('second');
    expect(server.requests.map((r) => ({ status: r.status, sentKey: 'prompt_cache_key' in r.body }))).toEqual([
      { status: 'fault', sentKey: true },
      { status: 'completed', sentKey: false },
      { status: 'completed', sentKey: false },
    ]);
  });

  it('keeps sending the key when the request without it fails too', async () => {
    server = await startFakeModelServer({
      responder: () => ({ kind: 'fault', fault: { kind: 'http', status: 400, message: 'invalid prompt_cache_key or messages' } }),
    });
    const endpoint = endpointFor(server.baseUrl, v);
    expect(await failureOf(callWire(endpoint, wireRequest(v.stream)))).toMatchObject({ type: 'ModelInvalidRequest' });
    await failureOf(callWire(endpoint, wireRequest(v.stream)));
    expect(server.requests.map((r) => 'prompt_cache_key' in r.body)).toEqual([true, false, true, false]);
  });

  it('does not retry a 400 that does not name prompt_cache_key', async () => {
    server = await startFakeModelServer({
      responder: () => ({ kind: 'fault', fault: { kind: 'http', status: 400, message: 'Unrecognized request argument supplied: top_k' } }),
    });
    const f = await failureOf(callWire(endpointFor(server.baseUrl, v), wireRequest(v.stream)));
    expect(f).toMatchObject({ type: 'ModelInvalidRequest', nonRetryable: true });
    expect(server.requests).toHaveLength(1);
  });
});

const withoutUsage = (reply: ScriptedReply): ScriptedReply => ({ ...reply, omitUsage: true }) as ScriptedReply;

describe.each(WIRE_VARIANTS)('a $wireApi server (stream: $stream) that reports no usage', (v) => {
  it('gets its tokens estimated with a tokenizer, marked estimated', async () => {
    const answer = 'README.md has 42 lines; I counted them with wc -l.';
    server = await startFakeModelServer({
      responder: () => withoutUsage({ kind: 'tool_calls', text: answer, calls: [{ name: 'read_file', arguments: { path: 'README.md' } }] }),
    });
    const request = wireRequest(v.stream);
    const result = await callWire(endpointFor(server.baseUrl, v), request);
    expect(result.text).toBe(answer);
    if (v.wireApi === 'chat' && v.stream) expect(server.requests[0]!.body.stream_options).toEqual({ include_usage: true });

    const inputChars =
      request.instructions.length +
      request.items.reduce(
        (n, i) =>
          n + (i.type === 'message' ? i.text : i.type === 'function_call' ? i.name + i.arguments : i.type === 'function_call_output' ? i.output : '').length,
        0,
      );
    const outputChars = answer.length + 'read_file'.length + JSON.stringify({ path: 'README.md' }).length;
    expect(result.usage.estimated).toBe(true);
    // English text and JSON run at roughly 3-5 characters per token.
    expect(result.usage.inputTokens).toBeGreaterThan(inputChars / 6);
    expect(result.usage.inputTokens).toBeLessThan(inputChars / 2);
    expect(result.usage.outputTokens).toBeGreaterThan(outputChars / 6);
    expect(result.usage.outputTokens).toBeLessThan(outputChars / 2);
    expect(result.usage).toMatchObject({ cachedInputTokens: 0, reasoningTokens: 0 });
  });

  it('keeps reported usage as reported (not estimated)', async () => {
    server = await startFakeModelServer({ responder: () => say('ok', { inputTokens: 1234, outputTokens: 5, cachedInputTokens: 1000 }) });
    const result = await callWire(endpointFor(server.baseUrl, v), wireRequest(v.stream));
    expect(result.usage).toEqual({ inputTokens: 1234, cachedInputTokens: 1000, outputTokens: 5, reasoningTokens: 0 });
  });
});
