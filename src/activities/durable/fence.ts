/**
 * Fencing (docs/architecture.md decision 10): every write to a transcript, journal entry or run.json
 * belongs to one activity attempt, and an attempt that was superseded (it outlived its heartbeat
 * timeout while Temporal already started a retry) must not write after its successor started.
 *
 * The token is the attempt's server-assigned schedule time: a retry, or a later activity on the
 * same resource, is scheduled strictly later. `<resource>.fence` keeps the highest token that has
 * written; a lower one is refused. The check and the write run under a lock shared by processes
 * (proper-lockfile: a `<resource>.lock` directory kept fresh while held, taken over once stale
 * when its holder died).
 */

import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { lock } from 'proper-lockfile';
import { writeFileDurable } from './files';
import { lockFs } from './lockFs';

export const SUPERSEDED_ATTEMPT = 'SupersededAttempt';

/** A lock whose holder has not refreshed it for this long is considered abandoned (its process died). */
export const LOCK_STALE_MS = 10_000;
/** How long to wait for a held lock: past the stale threshold, so a dead holder's lock is taken over. */
const LOCK_WAIT_MS = 3 * LOCK_STALE_MS;
const LOCK_MAX_RETRY_DELAY_MS = 200;

/** The fencing token of the running activity attempt, or `explicit` when given (outside an activity, e.g. in tests). */
export function attemptToken(explicit?: number): number {
  if (explicit !== undefined) return explicit;
  const token = activityAttemptToken();
  if (token === undefined) throw new Error('attemptToken() outside an activity needs an explicit token');
  return token;
}

/** The running activity attempt's token, or undefined outside an activity. */
export function activityAttemptToken(): number | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined;
  }
  return ctx.info.currentAttemptScheduledTimestampMs;
}

export function fencePath(resourcePath: string): string {
  return `${resourcePath}.fence`;
}

export function isSupersededAttempt(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === SUPERSEDED_ATTEMPT;
}

/**
 * Runs `fn` (the write) under the resource's lock if `token` is at least the highest token that has
 * written it; otherwise throws ApplicationFailure `SupersededAttempt`. It is retryable on purpose:
 * the server discards a superseded attempt's failure anyway, and a live attempt refused only
 * through clock skew between server hosts heals on a retry, which is scheduled later.
 */
export async function withFence<T>(resourcePath: string, token: number, fn: () => Promise<T>): Promise<T> {
  return withLock(resourcePath, async () => {
    const stored = readFence(resourcePath);
    if (stored !== undefined && token < stored) {
      throw ApplicationFailure.retryable(
        `a newer activity attempt owns ${resourcePath} (it wrote with token ${stored}; this attempt has ${token}); ` +
          'this superseded attempt must not write to it',
        SUPERSEDED_ATTEMPT,
      );
    }
    if (stored !== token) await writeFileDurable(fencePath(resourcePath), String(token));
    return fn();
  });
}

/** A fence file holds a number: read synchronously (a page-cache read of a few bytes, no thread-pool round trip). */
function readFence(resourcePath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(fencePath(resourcePath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const token = Number(text.trim());
  // The fence file is written atomically, so anything unreadable was not written by us.
  if (text.trim() === '' || !Number.isFinite(token)) throw new Error(`fence file ${fencePath(resourcePath)} is corrupt: ${JSON.stringify(text)}`);
  return token;
}

/** Runs `fn` holding the inter-process lock of `resourcePath`. */
export async function withLock<T>(resourcePath: string, fn: () => Promise<T>): Promise<T> {
  let compromised: Error | undefined;
  const release = await lock(resourcePath, {
    realpath: false,
    fs: lockFs,
    stale: LOCK_STALE_MS,
    // Backs off from 10 ms to LOCK_MAX_RETRY_DELAY_MS, for at least LOCK_WAIT_MS in all.
    retries: { retries: Math.ceil(LOCK_WAIT_MS / LOCK_MAX_RETRY_DELAY_MS) + 8, factor: 1.5, minTimeout: 10, maxTimeout: LOCK_MAX_RETRY_DELAY_MS },
    // The default throws from a timer, which would crash the worker.
    onCompromised: (err) => {
      compromised = err;
    },
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ELOCKED') throw err;
    throw ApplicationFailure.retryable(`${resourcePath} stayed locked by another process for ${LOCK_WAIT_MS} ms`, 'ResourceLocked');
  });
  let result: T;
  try {
    result = await fn();
  } finally {
    await release().catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ERELEASED') throw err; // ERELEASED: compromised, reported below
    });
  }
  if (compromised) {
    throw ApplicationFailure.retryable(
      `lost the lock on ${resourcePath} while writing (this process stalled past ${LOCK_STALE_MS} ms): ${compromised.message}`,
      'LockCompromised',
    );
  }
  return result;
}
