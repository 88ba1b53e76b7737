/**
 * Temporal's answers that mean "try again": a busy or restarting frontend (the embedded dev
 * server under load answers DEADLINE_EXCEEDED or UNAVAILABLE now and then). Reads of a run are
 * retried a few times on those instead of ending the command with a stack trace.
 */
import { ServiceError } from '@temporalio/client';
import { temporalStatusOf } from '../host/temporalErrors';

/** gRPC status codes: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const RETRYABLE = new Set<number>([4, 8, 10, 13, 14]);
const ATTEMPTS = 8;
const DELAY_MS = 500;

export function isTransientServiceError(err: unknown): boolean {
  if (!(err instanceof ServiceError)) return false;
  const code = temporalStatusOf(err)?.code;
  return code !== undefined && RETRYABLE.has(code);
}

export async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransientServiceError(err)) throw err;
      await new Promise((r) => setTimeout(r, DELAY_MS * attempt));
    }
  }
}
