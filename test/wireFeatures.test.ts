/**
 * What the wire layer sends and keeps (issue 12, items 1, 3, 6 and 7), through the real `openai`
 * client against the validating scripted endpoint, both wire APIs, streaming and not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WireRequest } from '../src/activities/wire/types';
import { type FakeModelServer, type StartFakeModelServerOptions, startFakeModelServer } from './support/fakeModel';
import { callWire, endpointFor, failureOf, WIRE_VARIANTS, type WireVariant, wireRequest } from './support/wireCall';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(opts: StartFakeModelServerOptions): Promise<FakeModelServer> {
  server = await startFakeModelServer(opts);
  return server;
}

const call = (v: WireVariant, over: Partial<WireRequest> = {}) => callWire(endpointFor(server!.baseUrl, v), wireRequest(v.stream, over));

const withDeveloper: Partial<WireRequest> = {
  items: [
    { type: 'message', role: 'user', text: 'Count the lines of README.md.' },
    { type: 'message', role: 'developer', text: 'You stopped without a signal; continue the work.' },
  ],
};

/** The role the developer message went with, per request. */
function developerRoles(s: FakeModelServer): string[] {
  return s.requests.map((r) => {
    const items: { role?: string; content?: unknown }[] = r.wire === 'chat' ? r.body.messages : r.body.input;
    return items.find((i) => typeof i.content === 'string' && i.content.startsWith('You stopped'))!.role!;
  });
}

describe.each(WIRE_VARIANTS)('the $wireApi wire (stream: $stream)', (v) => {
  it('returns reasoning, text and calls in the order the model produced them', async () => {
    await serve({
      responder: () => ({ kind: 'tool_calls', text: 'Reading it.', calls: [{ name: 'read_file', arguments: { path: 'a' } }], reasoning: ['First, think.'] }),
    });
    const result = await call(v);
    expect(result.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(result.text).toBe('Reading it.');
    expect(result.toolCalls).toHaveLength(1);
    expect(result.incomplete).toBeUndefined();
    if (v.wireApi === 'responses') {
      expect(result.output[0]).toEqual({ type: 'reasoning', id: 'rs_1_0', encryptedContent: expect.stringMatching(/^fake-enc:/), summary: ['First, think.'] });
      expect(server!.requests[0]!.body.include).toEqual(['reasoning.encrypted_content']);
    } else {
      expect(result.output[0]).toEqual({ type: 'reasoning', summary: ['First, think.'] });
    }
  });

  it('keeps working with an endpoint that returns no reasoning', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'plain' }) });
    const result = await call(v);
    expect(result.output).toEqual([{ type: 'message', role: 'assistant', text: 'plain' }]);
  });

  it('flags a reply cut at the output-token limit as incomplete and keeps its partial text', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'The answer is', incomplete: 'max_output_tokens', reasoning: ['hmm'] }) });
    const result = await call(v);
    expect(result.incomplete).toEqual({ reason: 'max_output_tokens' });
    expect(result.text).toBe('The answer is');
    expect(result.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
  });

  it('sends the reasoning effort when set, and nothing when not', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }) });
    await call(v, { reasoningEffort: 'high' });
    await call(v);
    const [withEffort, without] = server!.requests.map((r) => r.body);
    if (v.wireApi === 'responses') {
      expect(withEffort.reasoning).toEqual({ effort: 'high' });
      expect(without).not.toHaveProperty('reasoning');
    } else {
      expect(withEffort.reasoning_effort).toBe('high');
      expect(without).not.toHaveProperty('reasoning_effort');
    }
  });

  it('sends developer messages as developer', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }) });
    await call(v, withDeveloper);
    expect(developerRoles(server!)).toEqual(['developer']);
    expect(server!.requests[0]!.status).toBe('completed');
  });

  it('sends them as user to an endpoint that refuses the developer role, learned once', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }), refuse: ['developer_role'] });
    expect((await call(v, withDeveloper)).text).toBe('ok');
    expect((await call(v, withDeveloper)).text).toBe('ok');
    expect(developerRoles(server!)).toEqual(['developer', 'user', 'user']);
    expect(server!.requests.map((r) => r.status)).toEqual(['fault', 'completed', 'completed']);
  });

  it('answers 400 to a structured-output schema that breaks strict mode', async () => {
    await serve({ responder: () => ({ kind: 'message', text: '{}' }) });
    const bad = { name: 'bad', schema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string', minLength: 1 } }, required: ['a'] } };
    const f = await failureOf(call(v, { outputSchema: bad }));
    expect(f).toMatchObject({ type: 'ModelInvalidRequest', nonRetryable: true });
    expect(f.message).toMatch(/additionalProperties/);
    expect(server!.requests[0]).toMatchObject({ status: 'fault', fault: 'invalid_request' });
  });

  it('answers 400 to a tool output without its call', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }) });
    const items: WireRequest['items'] = [
      { type: 'message', role: 'user', text: 'hi' },
      { type: 'function_call_output', callId: 'call_nowhere', output: 'orphan' },
    ];
    expect(await failureOf(call(v, { items }))).toMatchObject({ type: 'ModelInvalidRequest' });
  });
});

describe.each(WIRE_VARIANTS.filter((v) => v.wireApi === 'responses'))('a Responses endpoint (stream: $stream)', (v) => {
  it('that refuses include is detected once and gets requests without it', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok', reasoning: ['thought'] }), refuse: ['include'] });
    const first = await call(v);
    await call(v);
    expect(server!.requests.map((r) => ({ status: r.status, include: r.body.include }))).toEqual([
      { status: 'fault', include: ['reasoning.encrypted_content'] },
      { status: 'completed', include: undefined },
      { status: 'completed', include: undefined },
    ]);
    // Reasoning without encrypted content is kept in the transcript but cannot be sent back statelessly.
    expect(first.output[0]).toEqual({ type: 'reasoning', id: 'rs_2_0', summary: ['thought'] });
    // Learned per model: OpenAI refuses it for its non-reasoning models only.
    await call(v, { model: 'another-model' });
    expect(server!.requests.slice(3).map((r) => r.body.include)).toEqual([['reasoning.encrypted_content'], undefined]);
  });

  it('refuses reasoning items that are the last input item or lack their encrypted content', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }) });
    const last = await failureOf(
      callWire(endpointFor(server!.baseUrl, v), {
        ...wireRequest(v.stream),
        items: [
          { type: 'message', role: 'user', text: 'hi' },
          { type: 'reasoning', id: 'rs_x', encryptedContent: 'fake-enc:eA==', summary: [] },
        ],
      }),
    );
    expect(last.message).toMatch(/without its required following item/);
    const forged = await failureOf(
      callWire(endpointFor(server!.baseUrl, v), {
        ...wireRequest(v.stream),
        items: [
          { type: 'message', role: 'user', text: 'hi' },
          { type: 'reasoning', id: 'rs_x', encryptedContent: 'not-issued', summary: [] },
          { type: 'message', role: 'assistant', text: 'ok' },
        ],
      }),
    );
    expect(forged.message).toMatch(/could not be verified/);
  });
});

describe.each(WIRE_VARIANTS.filter((v) => v.wireApi === 'chat'))('a Chat endpoint (stream: $stream)', (v) => {
  const withReasoning: Partial<WireRequest> = {
    items: [
      { type: 'message', role: 'user', text: 'Count the lines.' },
      { type: 'reasoning', summary: ['Use wc.'] },
      { type: 'function_call', callId: 'call_1', name: 'shell', arguments: '{"command":["wc","-l","README.md"]}' },
      { type: 'function_call_output', callId: 'call_1', output: '42 README.md\n' },
    ],
  };

  it('gets reasoning_content back on the assistant message', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }) });
    await call(v, withReasoning);
    expect(server!.requests[0]!.body.messages[2]).toMatchObject({ role: 'assistant', reasoning_content: 'Use wc.' });
  });

  it('that refuses reasoning_content gets it no more, learned once', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok' }), refuse: ['reasoning_content'] });
    await call(v, withReasoning);
    await call(v, withReasoning);
    expect(server!.requests.map((r) => ({ status: r.status, sent: 'reasoning_content' in r.body.messages[2] }))).toEqual([
      { status: 'fault', sent: true },
      { status: 'completed', sent: false },
      { status: 'completed', sent: false },
    ]);
  });

  it('reads reasoning_content from a reply', async () => {
    await serve({ responder: () => ({ kind: 'message', text: 'ok', reasoning: ['a', 'b'] }) });
    expect((await call(v)).output[0]).toEqual({ type: 'reasoning', summary: ['a\nb'] });
  });
});
