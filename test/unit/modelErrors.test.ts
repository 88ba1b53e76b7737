import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyModelError, ModelWireError } from '../../src/activities/wire/errors';

const ENDPOINT = 'http://127.0.0.1:9/v1';
const headers = (h: Record<string, string> = {}) => new Headers(h);

function classify(err: unknown): ApplicationFailure {
  const f = classifyModelError(err, ENDPOINT);
  expect(f).toBeInstanceOf(ApplicationFailure);
  return f;
}

describe('classifyModelError', () => {
  it.each([
    ['401', new OpenAI.AuthenticationError(401, { message: 'Incorrect API key' }, undefined, headers())],
    ['403', new OpenAI.PermissionDeniedError(403, { message: 'forbidden' }, undefined, headers())],
    ['401 via generate', OpenAI.APIError.generate(401, { error: { message: 'bad key' } }, undefined, headers())],
  ])('%s is a non-retryable ModelAuthError', (_label, err) => {
    const f = classify(err);
    expect(f.type).toBe('ModelAuthError');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(ENDPOINT);
    expect(f.message).toMatch(/OPENAI_API_KEY/);
  });

  it('400 context_length_exceeded (by code) is a non-retryable ContextLengthExceeded', () => {
    const err = OpenAI.APIError.generate(
      400,
      { error: { message: 'Input too big', code: 'context_length_exceeded', type: 'invalid_request_error' } },
      undefined,
      headers(),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const f = classify(err);
    expect(f.type).toBe('ContextLengthExceeded');
    expect(f.nonRetryable).toBe(true);
  });

  it('400 whose message speaks of the context length (no code) is ContextLengthExceeded', () => {
    const err = new OpenAI.BadRequestError(
      400,
      { message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens." },
      undefined,
      headers(),
    );
    expect(classify(err).type).toBe('ContextLengthExceeded');
  });

  it('another 400 is a non-retryable ModelInvalidRequest', () => {
    const err = new OpenAI.BadRequestError(400, { message: "Unknown parameter: 'foo'", code: 'unknown_parameter' }, undefined, headers());
    const f = classify(err);
    expect(f.type).toBe('ModelInvalidRequest');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/HTTP 400/);
  });

  it('404 and 422 are non-retryable ModelInvalidRequest', () => {
    expect(classify(new OpenAI.NotFoundError(404, { message: 'no such model' }, undefined, headers()))).toMatchObject({
      type: 'ModelInvalidRequest',
      nonRetryable: true,
    });
    expect(classify(new OpenAI.UnprocessableEntityError(422, { message: 'bad' }, undefined, headers()))).toMatchObject({
      type: 'ModelInvalidRequest',
      nonRetryable: true,
    });
  });

  it('429 with retry-after (seconds) is retryable with nextRetryDelay 2000 ms', () => {
    const f = classify(new OpenAI.RateLimitError(429, { message: 'x' }, 'x', headers({ 'retry-after': '2' })));
    expect(f.type).toBe('ModelRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(2000);
  });

  it('429 with retry-after-ms prefers the millisecond header', () => {
    const f = classify(new OpenAI.RateLimitError(429, { message: 'x' }, 'x', headers({ 'retry-after-ms': '1500', 'retry-after': '9' })));
    expect(f.nextRetryDelay).toBe(1500);
  });

  it('429 with an HTTP-date retry-after gives a delay of about the remaining time', () => {
    const when = new Date(Date.now() + 30_000).toUTCString();
    const f = classify(new OpenAI.RateLimitError(429, { message: 'x' }, 'x', headers({ 'retry-after': when })));
    expect(f.nextRetryDelay).toBeGreaterThan(25_000);
    expect(f.nextRetryDelay).toBeLessThanOrEqual(30_000);
  });

  it('429 with retry-after 0 is floored at 100 ms', () => {
    const f = classify(new OpenAI.RateLimitError(429, { message: 'x' }, 'x', headers({ 'retry-after': '0' })));
    expect(f.nextRetryDelay).toBe(100);
  });

  it('429 without retry-after is retryable with the default backoff', () => {
    const f = classify(OpenAI.APIError.generate(429, { error: { message: 'slow down' } }, undefined, headers()));
    expect(f.type).toBe('ModelRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it.each([[500], [502], [503], [504]])('%d is a retryable ModelUnavailable', (status) => {
    const f = classify(OpenAI.APIError.generate(status, { error: { message: 'oops' } }, undefined, headers()));
    expect(f.type).toBe('ModelUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain(String(status));
  });

  it.each([[408], [409]])('%d is a retryable ModelUnavailable', (status) => {
    const f = classify(OpenAI.APIError.generate(status, { error: { message: 'again' } }, undefined, headers()));
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
  });

  it('413 (payload too large) is a non-retryable ContextLengthExceeded, so the workflow compacts', () => {
    const f = classify(OpenAI.APIError.generate(413, { error: { message: 'Request Entity Too Large' } }, undefined, headers()));
    expect(f).toMatchObject({ type: 'ContextLengthExceeded', nonRetryable: true });
    expect(f.message).toMatch(/413/);
  });

  it.each([[408], [409], [500], [502], [503], [504]])('%d honours retry-after and retry-after-ms', (status) => {
    const seconds = classify(OpenAI.APIError.generate(status, { error: { message: 'busy' } }, undefined, headers({ 'retry-after': '7' })));
    expect(seconds).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false, nextRetryDelay: 7000 });
    const ms = classify(OpenAI.APIError.generate(status, { error: { message: 'busy' } }, undefined, headers({ 'retry-after-ms': '250' })));
    expect(ms.nextRetryDelay).toBe(250);
  });

  it('a retryable status without retry-after keeps the default backoff', () => {
    expect(classify(OpenAI.APIError.generate(503, { error: { message: 'busy' } }, undefined, headers())).nextRetryDelay).toBeUndefined();
  });

  it('APIConnectionError is retryable and names the endpoint', () => {
    const f = classify(new OpenAI.APIConnectionError({ message: 'ECONNREFUSED', cause: new Error('ECONNREFUSED') }));
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
    expect(f.message).toContain(ENDPOINT);
  });

  it('APIConnectionTimeoutError is retryable', () => {
    expect(classify(new OpenAI.APIConnectionTimeoutError())).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
  });

  it('a SyntaxError (invalid JSON body) is retryable', () => {
    let err: unknown;
    try {
      JSON.parse('{"truncated');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyntaxError);
    const f = classify(err);
    expect(f).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
    expect(f.message).toMatch(/invalid JSON/);
  });

  it('an APIError without a status (an error reported inside a stream) is retryable, unless about the context window', () => {
    const streamed = new OpenAI.APIError(undefined, { type: 'error', code: 'server_error', message: 'overloaded' }, undefined, headers());
    expect(classify(streamed)).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false, message: 'the model stream reported an error: overloaded' });
    const tooLong = new OpenAI.APIError(undefined, { code: 'context_length_exceeded', message: 'too long' }, undefined, headers());
    expect(classify(tooLong)).toMatchObject({ type: 'ContextLengthExceeded', nonRetryable: true });
    expect(classify(new OpenAI.APIUserAbortError())).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
  });

  it('ModelWireError keeps its retryability', () => {
    expect(classify(new ModelWireError('stream ended early', true))).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
    expect(classify(new ModelWireError('empty completion', false))).toMatchObject({ type: 'ModelUnavailable', nonRetryable: true });
  });

  it('anything else is a retryable ModelUnavailable', () => {
    expect(classify(new Error('boom'))).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
    expect(classify('a string')).toMatchObject({ type: 'ModelUnavailable', nonRetryable: false });
  });
});
