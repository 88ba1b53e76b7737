import OpenAI, { APIConnectionError, APIError, APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeModelServer, type Fault, type RecordedRequest, type Responder, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { scriptByRole, withFaults } from './support/modelScript';

const servers: FakeModelServer[] = [];

async function start(responder: Responder): Promise<FakeModelServer> {
  const s = await startFakeModelServer({ responder });
  servers.push(s);
  return s;
}

function client(s: FakeModelServer, role?: string, extra: Record<string, string> = {}): OpenAI {
  return new OpenAI({
    baseURL: s.baseUrl,
    apiKey: 'test',
    maxRetries: 0,
    logLevel: 'off', // the SDK logs unparsable SSE data before throwing; keep test output quiet
    defaultHeaders: { ...(role ? { 'x-infty-role': role } : {}), ...extra },
  });
}

const always =
  (reply: ScriptedReply): Responder =>
  () =>
    reply;

/** Collects the rejection of a promise (fails if it resolves). */
async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('fake model server: Responses API', () => {
  it('answers a non-streaming message with usage (incl. cached tokens) and records headers', async () => {
    const s = await start(always({ kind: 'message', text: 'hello world', usage: { inputTokens: 120, cachedInputTokens: 100, outputTokens: 7 } }));
    const c = client(s, 'solver', { 'x-infty-run-id': 'run-1', 'x-infty-purpose': 'attempt' });
    const r = await c.responses.create({ model: 'gpt-fake', input: 'say hi', instructions: 'be brief' });

    expect(r.id).toBe('resp_1');
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.model).toBe('gpt-fake');
    expect(r.output_text).toBe('hello world');
    expect(r.output).toHaveLength(1);
    const item = r.output[0]!;
    expect(item.type).toBe('message');
    if (item.type === 'message') {
      expect(item.id).toBe('msg_1');
      expect(item.role).toBe('assistant');
      expect(item.content[0]).toMatchObject({ type: 'output_text', text: 'hello world', annotations: [] });
    }
    expect(r.usage).toEqual({
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 127,
    });

    expect(s.requests).toHaveLength(1);
    const rec = s.requests[0]!;
    expect(rec).toMatchObject({
      seq: 1,
      path: '/v1/responses',
      wire: 'responses',
      role: 'solver',
      runId: 'run-1',
      purpose: 'attempt',
      stream: false,
      status: 'completed',
    });
    expect(rec.headers['x-infty-role']).toBe('solver');
    expect(rec.headers.authorization).toBe('Bearer test');
    expect(rec.headers['content-type']).toContain('application/json');
    expect(rec.body).toMatchObject({ model: 'gpt-fake', input: 'say hi', instructions: 'be brief' });
    expect(s.requestsFor('solver')).toHaveLength(1);
    expect(s.requestsFor('verifier')).toHaveLength(0);
  });

  it('computes default usage from the request size when the reply omits it', async () => {
    const s = await start(always({ kind: 'message', text: 'x'.repeat(40), usage: { reasoningTokens: 3 } }));
    const input = [{ role: 'user' as const, content: 'a'.repeat(100) }];
    const r = await client(s).responses.create({ model: 'm', input, instructions: 'inst' });
    const expectedIn = Math.ceil((JSON.stringify(input).length + JSON.stringify('inst').length) / 4);
    expect(r.usage?.input_tokens).toBe(expectedIn);
    expect(r.usage?.input_tokens_details.cached_tokens).toBe(0);
    expect(r.usage?.output_tokens).toBe(10);
    expect(r.usage?.output_tokens_details.reasoning_tokens).toBe(3);
    expect(r.usage?.total_tokens).toBe(expectedIn + 10);
  });

  it('answers non-streaming tool calls (with and without text)', async () => {
    const s = await start(
      always({
        kind: 'tool_calls',
        text: 'let me look',
        calls: [
          { name: 'read_file', arguments: { path: 'a.txt' } },
          { name: 'write_file', arguments: '{"path":"b.txt","content":"hi"}', callId: 'call_custom' },
        ],
      }),
    );
    const r = await client(s, 'solver').responses.create({ model: 'm', input: 'go' });
    expect(r.output_text).toBe('let me look');
    expect(r.output.map((o) => o.type)).toEqual(['message', 'function_call', 'function_call']);
    const calls = r.output.filter((o) => o.type === 'function_call');
    expect(calls[0]).toMatchObject({
      type: 'function_call',
      id: 'fc_1_0',
      call_id: 'call_1_0',
      name: 'read_file',
      status: 'completed',
    });
    expect(JSON.parse(calls[0]!.arguments)).toEqual({ path: 'a.txt' });
    expect(calls[1]).toMatchObject({ call_id: 'call_custom', name: 'write_file', arguments: '{"path":"b.txt","content":"hi"}' });

    const s2 = await start(always({ kind: 'tool_calls', calls: [{ name: 'done', arguments: {} }] }));
    const r2 = await client(s2).responses.create({ model: 'm', input: 'go' });
    expect(r2.output.map((o) => o.type)).toEqual(['function_call']);
    expect(r2.output_text).toBe('');
  });

  it('streams a message via responses.create({stream:true})', async () => {
    const text = 'The quick brown fox jumps over the lazy dog, repeatedly and at length.';
    const s = await start(always({ kind: 'message', text, usage: { cachedInputTokens: 5, inputTokens: 50 } }));
    const stream = await client(s, 'director').responses.create({ model: 'm', input: 'hi', stream: true });
    const events: any[] = [];
    for await (const ev of stream) events.push(ev);

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('response.created');
    expect(types[1]).toBe('response.in_progress');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.content_part.added');
    expect(types).toContain('response.output_text.done');
    expect(types).toContain('response.content_part.done');
    expect(types).toContain('response.output_item.done');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_e, i) => i));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((d) => d.delta).join('')).toBe(text);
    const completed = events.at(-1);
    expect(completed.response.status).toBe('completed');
    expect(completed.response.usage).toMatchObject({ input_tokens: 50, input_tokens_details: { cached_tokens: 5 } });
    expect(completed.response.output[0].content[0].text).toBe(text);

    expect(s.requests[0]).toMatchObject({ stream: true, role: 'director', status: 'completed' });
  });

  it('streams tool calls via responses.stream() + finalResponse()', async () => {
    const args = { path: 'src/some/long/path/to/a/file.ts', content: 'export const x = 1;\n'.repeat(3) };
    const s = await start(always({ kind: 'tool_calls', text: 'writing', calls: [{ name: 'write_file', arguments: args }], latencyMs: 30 }));
    const stream = client(s).responses.stream({ model: 'm', input: 'write it' });
    const argDeltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('writing');
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'write_file', call_id: 'call_1_0', status: 'completed' });
    expect(JSON.parse((call as any).arguments)).toEqual(args);
    expect(argDeltas.length).toBeGreaterThan(1);
    expect(argDeltas.join('')).toBe(JSON.stringify(args));
    expect(final.usage?.output_tokens).toBe(Math.ceil(('writing'.length + JSON.stringify(args).length) / 4));
  });

  it('accepts paths without /v1 and answers 404 JSON for anything else', async () => {
    const s = await start(always({ kind: 'message', text: 'ok' }));
    const root = s.baseUrl.replace(/\/v1$/, '');
    const noV1 = new OpenAI({ baseURL: root, apiKey: 'test', maxRetries: 0 });
    expect((await noV1.responses.create({ model: 'm', input: 'x' })).output_text).toBe('ok');
    expect(s.requests[0]!.path).toBe('/v1/responses');

    const res = await fetch(`${s.baseUrl}/embeddings`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toMatch(/Unknown request URL/);
    const err = await rejectionOf(client(s).models.list());
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(404);
    expect(s.requests).toHaveLength(1);
  });
});

describe('fake model server: Chat Completions', () => {
  it('answers a non-streaming message and tool calls', async () => {
    const s = await start(
      scriptByRole({
        solver: [
          { kind: 'message', text: 'plain answer', usage: { inputTokens: 30, cachedInputTokens: 20, outputTokens: 4 } },
          { kind: 'tool_calls', calls: [{ name: 'grep', arguments: { q: 'foo' } }] },
        ],
      }),
    );
    const c = client(s, 'solver');
    const r1 = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(r1.id).toBe('chatcmpl-1');
    expect(r1.object).toBe('chat.completion');
    expect(r1.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'plain answer', refusal: null });
    expect(r1.choices[0]!.finish_reason).toBe('stop');
    expect(r1.usage).toMatchObject({
      prompt_tokens: 30,
      completion_tokens: 4,
      total_tokens: 34,
      prompt_tokens_details: { cached_tokens: 20 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });

    const r2 = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'grep' }] });
    expect(r2.choices[0]!.finish_reason).toBe('tool_calls');
    expect(r2.choices[0]!.message.content).toBeNull();
    expect(r2.choices[0]!.message.tool_calls).toEqual([{ id: 'call_2_0', type: 'function', function: { name: 'grep', arguments: '{"q":"foo"}' } }]);
    expect(s.requests.map((r) => [r.path, r.wire, r.role])).toEqual([
      ['/v1/chat/completions', 'chat', 'solver'],
      ['/v1/chat/completions', 'chat', 'solver'],
    ]);
    const messages = [{ role: 'user', content: 'grep' }];
    expect(r2.usage?.prompt_tokens).toBe(Math.ceil(JSON.stringify(messages).length / 4));
  });

  it('streams content and tool calls with include_usage', async () => {
    const text = 'Streaming chat content, in several pieces please.';
    const s = await start(
      always({
        kind: 'tool_calls',
        text,
        calls: [
          { name: 'a', arguments: { x: 1, long: 'y'.repeat(40) } },
          { name: 'b', arguments: { z: 2 }, callId: 'call_b' },
        ],
        usage: { cachedInputTokens: 9, inputTokens: 11 },
      }),
    );
    const stream = await client(s, 'verifier-1').chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const ch of stream) chunks.push(ch);
    expect(chunks.every((ch) => ch.object === 'chat.completion.chunk')).toBe(true);
    const content = chunks.map((ch) => ch.choices[0]?.delta?.content ?? '').join('');
    expect(content).toBe(text);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const finish = chunks.find((ch) => ch.choices[0]?.finish_reason);
    expect(finish.choices[0].finish_reason).toBe('tool_calls');
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 11, prompt_tokens_details: { cached_tokens: 9 } });

    // Reassemble tool calls from deltas.
    const calls: Array<{ id?: string; name: string; args: string }> = [];
    for (const ch of chunks) {
      for (const tc of ch.choices[0]?.delta?.tool_calls ?? []) {
        calls[tc.index] ??= { name: '', args: '' };
        const slot = calls[tc.index];
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name = tc.function.name;
        if (tc.function?.arguments) slot.args += tc.function.arguments;
      }
    }
    expect(calls.map((c) => [c.id, c.name, JSON.parse(c.args)])).toEqual([
      ['call_1_0', 'a', { x: 1, long: 'y'.repeat(40) }],
      ['call_b', 'b', { z: 2 }],
    ]);
    expect(s.requests[0]).toMatchObject({ stream: true, role: 'verifier-1', status: 'completed' });
  });

  it('works with chat.completions.stream() + finalChatCompletion() and without include_usage', async () => {
    const s = await start(always({ kind: 'message', text: 'final streamed text', latencyMs: 20 }));
    const stream = client(s).chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('final streamed text');
    expect(final.choices[0]!.finish_reason).toBe('stop');

    const raw = await client(s).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks: any[] = [];
    for await (const ch of raw) chunks.push(ch);
    expect(chunks.some((ch) => ch.usage)).toBe(false);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
  });
});

describe('scriptByRole', () => {
  it('consumes replies per role in order, supports prefix patterns and function replies', async () => {
    const script = scriptByRole({
      solver: [
        { kind: 'message', text: 's1' },
        { kind: 'message', text: 's2' },
      ],
      'verifier*': [{ kind: 'message', text: 'v1' }, (req: RecordedRequest) => ({ kind: 'message', text: `v2:${req.role}` })],
      director: [{ kind: 'message', text: 'd1' }],
    });
    const s = await start(script);
    const ask = async (role: string) => (await client(s, role).responses.create({ model: 'm', input: 'x' })).output_text;

    expect(script.remaining('solver')).toBe(2);
    expect(script.remaining('verifier-7')).toBe(2);
    expect(await ask('verifier-a')).toBe('v1');
    expect(await ask('solver')).toBe('s1');
    expect(await ask('director')).toBe('d1');
    expect(await ask('verifier-b')).toBe('v2:verifier-b');
    expect(await ask('solver')).toBe('s2');
    expect(script.remaining('solver')).toBe(0);
    expect(script.remaining('verifier*')).toBe(0);
    expect(s.requestsFor('solver').map((r) => r.seq)).toEqual([2, 5]);
  });

  it('answers HTTP 500 naming the role when the queue is exhausted, or uses the fallback', async () => {
    const s = await start(scriptByRole({ solver: [{ kind: 'message', text: 'only one' }] }));
    const c = client(s, 'solver');
    await c.responses.create({ model: 'm', input: 'x' });
    const err = await rejectionOf(c.responses.create({ model: 'm', input: 'x' }));
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).message).toContain('"solver"');
    expect((err as APIError).code).toBe('script_exhausted');
    expect(s.requests[1]).toMatchObject({ status: 'fault', fault: 'http' });

    const err2 = await rejectionOf(client(s, 'stranger').chat.completions.create({ model: 'm', messages: [] }));
    expect((err2 as APIError).message).toContain('"stranger"');

    s.setResponder(scriptByRole({ solver: [] }, { fallback: () => ({ kind: 'message', text: 'fallback reply' }) }));
    expect((await c.responses.create({ model: 'm', input: 'x' })).output_text).toBe('fallback reply');
  });
});

describe('faults', () => {
  const fault = (f: Fault, latencyMs?: number): Responder => always({ kind: 'fault', fault: f, latencyMs });

  it('http 500 / 429 with Retry-After / 400 context_length_exceeded', async () => {
    const s = await start(fault({ kind: 'http', status: 500 }));
    const c = client(s);
    const e500 = await rejectionOf(c.responses.create({ model: 'm', input: 'x' }));
    expect(e500).toBeInstanceOf(InternalServerError);
    expect((e500 as APIError).status).toBe(500);
    expect((e500 as APIError).type).toBe('server_error');

    s.setResponder(fault({ kind: 'http', status: 429, retryAfterSeconds: 3 }));
    const e429 = await rejectionOf(c.chat.completions.create({ model: 'm', messages: [] }));
    expect(e429).toBeInstanceOf(RateLimitError);
    expect((e429 as APIError).status).toBe(429);
    expect((e429 as APIError).headers?.get('retry-after')).toBe('3');
    expect((e429 as APIError).code).toBe('rate_limit_exceeded');

    s.setResponder(fault({ kind: 'http', status: 400, code: 'context_length_exceeded' }));
    const e400 = await rejectionOf(c.responses.create({ model: 'm', input: 'x', stream: true }));
    expect(e400).toBeInstanceOf(BadRequestError);
    expect((e400 as APIError).code).toBe('context_length_exceeded');
    expect((e400 as APIError).message).toMatch(/maximum context length is \d+ tokens/);

    expect(s.requests.map((r) => [r.status, r.fault])).toEqual([
      ['fault', 'http'],
      ['fault', 'http'],
      ['fault', 'http'],
    ]);
  });

  it('drop surfaces as APIConnectionError', async () => {
    const s = await start(fault({ kind: 'drop' }, 10));
    const err = await rejectionOf(client(s).responses.create({ model: 'm', input: 'x' }));
    expect(err).toBeInstanceOf(APIConnectionError);
    const err2 = await rejectionOf(client(s).chat.completions.create({ model: 'm', messages: [], stream: true }));
    expect(err2).toBeInstanceOf(APIConnectionError);
    expect(s.requests.map((r) => r.fault)).toEqual(['drop', 'drop']);
  });

  it('truncated_stream ends streams without the completion event and halves JSON bodies', async () => {
    const s = await start(fault({ kind: 'truncated_stream' }));
    const c = client(s);

    const rs = await c.responses.create({ model: 'm', input: 'x', stream: true });
    const types: string[] = [];
    for await (const ev of rs) types.push(ev.type);
    expect(types[0]).toBe('response.created');
    expect(types.length).toBeGreaterThan(2);
    expect(types).not.toContain('response.completed');

    const helper = c.responses.stream({ model: 'm', input: 'x' });
    const snapshot = await helper.finalResponse();
    expect(snapshot.status).not.toBe('completed'); // the SDK hands back the in-progress snapshot

    const cs = await c.chat.completions.create({
      model: 'm',
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: any[] = [];
    for await (const ch of cs) chunks.push(ch);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.some((ch) => ch.choices[0]?.finish_reason)).toBe(false);
    expect(chunks.some((ch) => ch.usage)).toBe(false);

    const errJson = await rejectionOf(c.responses.create({ model: 'm', input: 'x' }));
    expect(errJson).toBeInstanceOf(SyntaxError);
    expect(s.requests.every((r) => r.fault === 'truncated_stream')).toBe(true);
  });

  it('invalid_json surfaces as a JSON parse error (stream and not)', async () => {
    const s = await start(fault({ kind: 'invalid_json' }));
    const c = client(s);
    const e1 = await rejectionOf(c.chat.completions.create({ model: 'm', messages: [] }));
    expect(e1).toBeInstanceOf(SyntaxError);
    expect(e1).not.toBeInstanceOf(APIError);

    const stream = await c.responses.create({ model: 'm', input: 'x', stream: true });
    const e2 = await rejectionOf(
      (async () => {
        for await (const _ev of stream) {
          /* drain */
        }
      })(),
    );
    expect(e2).toBeInstanceOf(SyntaxError);
  });

  it('hang is aborted by an AbortSignal and the server stays healthy', async () => {
    let hang = true;
    const s = await start(() => (hang ? { kind: 'fault', fault: { kind: 'hang' } } : { kind: 'message', text: 'after the hang' }));
    const c = client(s);
    const t0 = Date.now();
    const err = await rejectionOf(c.responses.create({ model: 'm', input: 'x' }, { signal: AbortSignal.timeout(150) }));
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - t0).toBeLessThan(5000);
    const errStream = await rejectionOf(c.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal: AbortSignal.timeout(100) }));
    expect(errStream).toBeInstanceOf(APIUserAbortError);
    expect(s.requests.map((r) => r.fault)).toEqual(['hang', 'hang']);

    hang = false;
    expect((await c.responses.create({ model: 'm', input: 'x' })).output_text).toBe('after the hang');
  });

  it('close() returns promptly even with a request still hanging', async () => {
    const s = await startFakeModelServer({ responder: fault({ kind: 'hang' }) });
    const pending = rejectionOf(client(s).responses.create({ model: 'm', input: 'x' }));
    while (s.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await s.close();
    expect(await pending).toBeInstanceOf(APIConnectionError);
  });

  it('a client abort mid-stream does not break the server', async () => {
    const s = await start(always({ kind: 'message', text: 'z'.repeat(400), latencyMs: 400 }));
    const c = client(s);
    const ac = new AbortController();
    const stream = await c.chat.completions.create({ model: 'm', messages: [], stream: true }, { signal: ac.signal });
    const got: unknown[] = [];
    for await (const ch of stream) {
      got.push(ch);
      if (got.length === 2) ac.abort();
    }
    expect(got.length).toBeGreaterThanOrEqual(2);
    s.setResponder(always({ kind: 'message', text: 'still fine' }));
    expect((await c.responses.create({ model: 'm', input: 'x' })).output_text).toBe('still fine');
    expect(s.requests[0]!.status).toBeUndefined();
  });
});

describe('withFaults', () => {
  async function runPattern(seed: number, n: number): Promise<{ faults: string[]; outcomes: string[] }> {
    const s = await start(withFaults(always({ kind: 'message', text: 'ok' }), { rate: 0.5, seed }));
    const c = client(s);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await c.responses.create({ model: 'm', input: 'x', stream: i % 2 === 0 });
        if ('output_text' in r) {
          out.push(r.output_text);
        } else {
          let completed = false;
          for await (const ev of r) if (ev.type === 'response.completed') completed = true;
          out.push(completed ? 'ok' : 'incomplete');
        }
      } catch (err) {
        out.push(err instanceof APIError ? `${err.constructor.name}:${err.status ?? '-'}` : (err as Error).name);
      }
    }
    expect(s.requests).toHaveLength(n);
    return { faults: s.requests.map((r) => r.fault ?? 'ok'), outcomes: out };
  }

  it('is deterministic for a seed', async () => {
    const a = await runPattern(42, 20);
    const b = await runPattern(42, 20);
    expect(a).toEqual(b);
    expect(a.faults.filter((x) => x === 'ok').length).toBeGreaterThan(0);
    expect(a.faults.filter((x) => x !== 'ok').length).toBeGreaterThan(0);
    // Every non-faulted request got the scripted reply.
    a.faults.forEach((f, i) => {
      if (f === 'ok') expect(a.outcomes[i]).toBe('ok');
    });
    const other = await runPattern(7, 20);
    expect(other.faults).not.toEqual(a.faults);
  });

  it('a faulted request does not consume the script (the retry gets the same reply)', async () => {
    const script = scriptByRole({
      solver: [
        { kind: 'message', text: 'first' },
        { kind: 'message', text: 'second' },
        { kind: 'message', text: 'third' },
      ],
    });
    const s = await start(withFaults(script, { rate: 0.6, seed: 3, kinds: [{ kind: 'http', status: 503 }] }));
    const c = client(s, 'solver');
    const got: string[] = [];
    let attempts = 0;
    while (got.length < 3) {
      attempts++;
      expect(attempts).toBeLessThan(100);
      try {
        got.push((await c.responses.create({ model: 'm', input: 'x' })).output_text);
      } catch (err) {
        expect(err).toBeInstanceOf(InternalServerError);
      }
    }
    expect(got).toEqual(['first', 'second', 'third']);
    expect(attempts).toBeGreaterThan(3); // some faults were injected
    expect(script.remaining('solver')).toBe(0);
    expect(s.requests.filter((r) => r.status === 'fault').length).toBe(attempts - 3);
  });

  it('rate 0 never faults and rate 1 always faults', async () => {
    const inner = always({ kind: 'message', text: 'ok' });
    const never = withFaults(inner, { rate: 0, seed: 9 });
    const alwaysF = withFaults(inner, { rate: 1, seed: 9 });
    const fake = {} as RecordedRequest;
    for (let i = 0; i < 50; i++) {
      expect((await never(fake)).kind).toBe('message');
      expect((await alwaysF(fake)).kind).toBe('fault');
    }
  });
});
