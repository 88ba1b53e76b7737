/** Classifies model endpoint errors into Temporal failures (docs/architecture.md decision 4). */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';

/** A wire-level problem found while reading a response (truncated stream, empty completion). */
export class ModelWireError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The worker has no model endpoint; the workflow holds the run (rather than failing it) until one is configured. */
export const MODEL_NOT_CONFIGURED = 'ModelNotConfigured';

const CONTEXT_LENGTH = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long/i;

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

export function classifyModelError(err: unknown, endpoint: string): ApplicationFailure {
  if (err instanceof ModelWireError) {
    return ApplicationFailure.create({ message: err.message, type: 'ModelUnavailable', nonRetryable: !err.retryable });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return ApplicationFailure.create({ message: `cannot reach the model endpoint ${endpoint}: ${err.message}`, type: 'ModelUnavailable' });
  }
  if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.PermissionDeniedError) {
    return ApplicationFailure.nonRetryable(
      `the model endpoint ${endpoint} refused the credentials (HTTP ${err.status}): ${err.message}. Check OPENAI_API_KEY.`,
      'ModelAuthError',
    );
  }
  // An error the endpoint reported inside a stream it had answered with HTTP 200: the SDK throws it as an
  // APIError without a status. A Chat chunk `{"error": {...}}` always came this way; since openai 7 so does
  // the Responses stream's `event: error` frame, which openai 6 handed over as an event (./responses).
  if (err instanceof OpenAI.APIError && err.status === undefined && !(err instanceof OpenAI.APIUserAbortError)) {
    if (err.code === 'context_length_exceeded' || CONTEXT_LENGTH.test(err.message)) {
      return ApplicationFailure.nonRetryable(`the request exceeds the model's context window: ${err.message}`, 'ContextLengthExceeded');
    }
    return ApplicationFailure.create({ message: `the model stream reported an error: ${err.message}`, type: 'ModelUnavailable' });
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const code = (err as { code?: string | null }).code ?? '';
    if (err.status === 400 && (code === 'context_length_exceeded' || CONTEXT_LENGTH.test(err.message))) {
      return ApplicationFailure.nonRetryable(`the request exceeds the model's context window: ${err.message}`, 'ContextLengthExceeded');
    }
    // 413: the body is too large for the server (or a proxy in front of it); smaller history is the only cure.
    if (err.status === 413) {
      return ApplicationFailure.nonRetryable(`the request is too large for the model endpoint (HTTP 413): ${err.message}`, 'ContextLengthExceeded');
    }
    const delay = retryAfterMs(err.headers);
    const retryAfter = delay !== undefined ? { nextRetryDelay: Math.max(delay, 100) } : {};
    if (err.status === 429) {
      return ApplicationFailure.create({
        message: `the model endpoint is rate limiting (HTTP 429): ${err.message}`,
        type: 'ModelRateLimited',
        ...retryAfter,
      });
    }
    if (err.status === 408 || err.status === 409 || err.status >= 500) {
      return ApplicationFailure.create({
        message: `the model endpoint failed (HTTP ${err.status}): ${err.message}`,
        type: 'ModelUnavailable',
        ...retryAfter,
      });
    }
    return ApplicationFailure.nonRetryable(`the model endpoint rejected the request (HTTP ${err.status}): ${err.message}`, 'ModelInvalidRequest');
  }
  if (err instanceof SyntaxError) {
    return ApplicationFailure.create({ message: `the model endpoint returned invalid JSON: ${err.message}`, type: 'ModelUnavailable' });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ message: `model call failed: ${message}`, type: 'ModelUnavailable' });
}
