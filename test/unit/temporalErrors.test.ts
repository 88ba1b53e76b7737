import { NamespaceNotFoundError, ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { UnreachableError, UsageError } from '../../src/errors';
import { temporalFailure, temporalStatusOf } from '../../src/host/temporalErrors';

const grpc = (code: number, details: string) => Object.assign(new Error(`${code} X: ${details}`), { code, details });
const target = { temporalAddress: 'temporal.example:7233', namespace: 'prod', temporalApiKey: undefined };

/** How the native connection (infty worker) reports a namespace it cannot find, as seen from `infty worker`. */
const NATIVE_NAMESPACE_NOT_FOUND = new Error(
  'Namespace nope was not found or otherwise could not be described: Status { code: NotFound, message: "Namespace nope is not found.", details: b"\\x08\\x05\\x12\\x1cNamespace nope is not found.", metadata: MetadataMap { headers: {"content-type": "application/grpc"} }, source: None }',
);

describe('reading a failed Temporal request (docs/interface.md §3)', () => {
  it('a server that does not answer is unreachable (exit 3), with its address', () => {
    for (const cause of [grpc(14, 'No connection established'), grpc(4, 'Deadline exceeded')]) {
      const err = temporalFailure(new ServiceError('Failed to list workflows', { cause }), target);
      expect(err).toBeInstanceOf(UnreachableError);
      expect(err?.message).toMatch(/^cannot reach Temporal at temporal\.example:7233 \(/);
    }
  });

  it('a refused request is exit 2 naming what was refused and Temporal’s reason, never "unreachable"', () => {
    const err = temporalFailure(new ServiceError('Failed to start Workflow', { cause: grpc(3, 'taskQueue length exceeds limit') }), target);
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toBe(
      'Temporal at temporal.example:7233 refused to start Workflow (namespace prod): taskQueue length exceeds limit (INVALID_ARGUMENT)',
    );
    for (const code of [5, 6, 9]) expect(temporalFailure(grpc(code, 'no'), target)?.exitCode, String(code)).toBe(2);
  });

  it('a refused Infty search attribute says how it gets registered', () => {
    const err = temporalFailure(grpc(3, 'Namespace prod has no mapping defined for search attribute InftyGoalStatus'), target);
    expect(err?.message).toMatch(/refused the request \(namespace prod\): Namespace prod has no mapping .* `infty worker` registers them/);
  });

  it('a namespace that does not exist says so and how to create it (SDK, grpc-js and native words)', () => {
    const message =
      'namespace nope does not exist on Temporal at temporal.example:7233; create it with `temporal operator namespace create --namespace nope` (or set TEMPORAL_NAMESPACE)';
    for (const err of [new NamespaceNotFoundError('nope'), grpc(5, 'Namespace nope is not found.'), NATIVE_NAMESPACE_NOT_FOUND]) {
      const failure = temporalFailure(err, target);
      expect(failure).toBeInstanceOf(UsageError);
      expect(failure?.message).toBe(message);
    }
  });

  it('credentials the server refuses name the settings to check (exit 3), without the key', () => {
    const err = temporalFailure(grpc(7, 'key k-1 may not do this'), { ...target, temporalApiKey: 'k-1' });
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err?.message).toMatch(/refused this client's credentials .*TEMPORAL_API_KEY/);
    expect(err?.message).not.toContain('k-1');
  });

  it('a failure on the server’s side is exit 3 but not called unreachable', () => {
    const err = temporalFailure(grpc(13, 'persistence error'), target);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err?.message).toBe(
      "Temporal at temporal.example:7233 could not complete the request: persistence error (INTERNAL); retry, and see the server's log if it persists",
    );
  });

  it('leaves other errors alone', () => {
    expect(temporalFailure(new Error('disk full'), target)).toBeUndefined();
    expect(temporalFailure(Object.assign(new Error('x'), { code: 'ENOENT' }), target)).toBeUndefined();
    expect(temporalStatusOf(new Error('Status { code: Mystery, message: "x" }'))).toBeUndefined();
  });
});
