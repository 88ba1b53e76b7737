import { afterEach, describe, expect, it, vi } from 'vitest';
import { MODEL_NOT_CONFIGURED } from '../src/activities/wire/errors';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { callWire, endpointFor, failureOf, RUN_ID, WIRE_VARIANTS, wireRequest } from './support/wireCall';

let server: FakeModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverAnswering(reply: ScriptedReply): Promise<FakeModelServer> {
  server = await startFakeModelServer({ responder: () => reply });
  return server;
}

describe.each(WIRE_VARIANTS)('model faults over $wireApi (stream: $stream)', (v) => {
  it('HTTP 413 is a non-retryable ContextLengthExceeded (the workflow compacts)', async () => {
    const s = await serverAnswering({ kind: 'fault', fault: { kind: 'http', status: 413 } });
    const f = await failureOf(callWire(endpointFor(s.baseUrl, v), wireRequest(v.stream)));
    expect(f).toMatchObject({ type: 'ContextLengthExceeded', nonRetryable: true });
    expect(f.message).toMatch(/413/);
  });

  it('HTTP 503 with Retry-After: 7 is retried after 7 s', async () => {
    const s = await serverAnswering({ kind: 'fault', fault: { kind: 'http', status: 503, retryAfterSeconds: 7 } });
    const f = await failureOf(callWire(endpointFor(s.baseUrl, v), wireRequest(v.stream)));
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
  });

  it('HTTP 500 with retry-after-ms is retried after that many ms', async () => {
    const s = await serverAnswering({ kind: 'fault', fault: { kind: 'http', status: 500, retryAfterMs: 1500 } });
    const f = await failureOf(callWire(endpointFor(s.baseUrl, v), wireRequest(v.stream)));
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false, nextRetryDelay: 1500 });
  });
});

describe.each(WIRE_VARIANTS.filter((v) => v.stream))('an error reported inside a $wireApi stream', (v) => {
  it('is a retryable ModelUnavailable that quotes the message of the endpoint', async () => {
    const s = await serverAnswering({ kind: 'fault', fault: { kind: 'stream_error', message: 'The model is overloaded mid-reply.' } });
    const f = await failureOf(callWire(endpointFor(s.baseUrl, v), wireRequest(true)));
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
    expect(f.message).toBe('the model stream reported an error: The model is overloaded mid-reply.');
  });

  it('is a non-retryable ContextLengthExceeded when it is about the context window', async () => {
    const fault = { kind: 'stream_error', code: 'context_length_exceeded', message: 'Your input exceeds the context window of this model.' } as const;
    const s = await serverAnswering({ kind: 'fault', fault });
    const f = await failureOf(callWire(endpointFor(s.baseUrl, v), wireRequest(true)));
    expect(f).toMatchObject({ type: 'ContextLengthExceeded', nonRetryable: true });
  });
});

describe('a worker without a model endpoint', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fails the call with ModelNotConfigured, says what to set and how to resume, and leaves no timer', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const f = await failureOf(callWire({ baseURL: undefined, apiKey: undefined, wireApi: 'responses', stream: true }, wireRequest(true)));
    expect(f.type).toBe(MODEL_NOT_CONFIGURED);
    expect(f.type).toBe('ModelNotConfigured');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/OPENAI_API_KEY/);
    expect(f.message).toMatch(/OPENAI_BASE_URL/);
    expect(f.message).toContain(`infty resume ${RUN_ID}`);
    expect(setIntervalSpy).not.toHaveBeenCalled();
    expect(timeouts()).toBe(before);
  });
});
