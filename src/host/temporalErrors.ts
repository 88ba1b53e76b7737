/**
 * What a failed Temporal request means, read in one place for every command (docs/interface.md §3):
 * a server that cannot be reached (exit 3), credentials it refuses (exit 3), a namespace that does
 * not exist (exit 2), a request it refuses with its reason (exit 2), or a failure on its side (exit 3).
 */
import { NamespaceNotFoundError, ServiceError } from '@temporalio/client';
import { unreachableMessage } from '../client';
import { UnreachableError, UsageError } from '../errors';
import { credentialsRefusedMessage } from './temporalConnectFailure';

/** gRPC status codes (the subset named here). */
export const GRPC = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The same codes as the native connection (tonic) spells them in its errors' text: "NotFound" for NOT_FOUND. */
const TONIC_CODES = new Map(CODE_NAMES.map((name, code) => [name.toLowerCase().replace(/_/g, ''), code]));

export interface TemporalStatus {
  code: number;
  /** The server's words. */
  message: string;
  /** What the SDK was doing, e.g. "Failed to start Workflow" (a ServiceError's message), when known. */
  operation?: string;
  /** The missing namespace, for NOT_FOUND of a namespace. */
  namespace?: string;
}

/** The gRPC status a Temporal error carries (it or one of its causes), from grpc-js, the SDK or the native connection. */
export function temporalStatusOf(err: unknown): TemporalStatus | undefined {
  let operation: string | undefined;
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NamespaceNotFoundError) return { code: GRPC.NOT_FOUND, message: e.message, operation, namespace: e.namespace };
    if (e instanceof ServiceError) operation ??= e.message;
    const { code, details } = e as { code?: unknown; details?: unknown };
    const text = e instanceof Error ? e.message : String(e);
    if (typeof code === 'number' && code > 0 && code < CODE_NAMES.length) {
      const message = typeof details === 'string' && details ? details : text.replace(/^\d+ [A-Z_]+: /, '');
      return withNamespace({ code, message, operation });
    }
    const tonic = /Status \{ code: (\w+), message: "((?:[^"\\]|\\.)*)"/.exec(text);
    const tonicCode = tonic ? TONIC_CODES.get(tonic[1]!.toLowerCase()) : undefined;
    if (tonic && tonicCode !== undefined) return withNamespace({ code: tonicCode, message: tonic[2]!.replace(/\\(.)/g, '$1'), operation });
  }
  return undefined;
}

function withNamespace(status: TemporalStatus): TemporalStatus {
  const missing = status.code === GRPC.NOT_FOUND ? /^Namespace (\S+) is not found/i.exec(status.message)?.[1] : undefined;
  return missing ? { ...status, namespace: missing } : status;
}

export type TemporalFailureKind = 'unreachable' | 'credentials' | 'namespace-missing' | 'refused' | 'server-failed';

const REFUSALS = new Set<number>([GRPC.INVALID_ARGUMENT, GRPC.NOT_FOUND, GRPC.ALREADY_EXISTS, GRPC.FAILED_PRECONDITION, GRPC.OUT_OF_RANGE]);

export function temporalFailureKind(status: TemporalStatus): TemporalFailureKind {
  if (status.code === GRPC.UNAVAILABLE || status.code === GRPC.DEADLINE_EXCEEDED) return 'unreachable';
  if (status.code === GRPC.PERMISSION_DENIED || status.code === GRPC.UNAUTHENTICATED) return 'credentials';
  if (status.namespace !== undefined) return 'namespace-missing';
  if (REFUSALS.has(status.code)) return 'refused';
  return 'server-failed';
}

export interface TemporalTarget {
  temporalAddress: string;
  namespace: string;
  temporalApiKey: string | undefined;
}

export function namespaceMissingMessage(target: Pick<TemporalTarget, 'temporalAddress'>, namespace: string): string {
  return (
    `namespace ${namespace} does not exist on Temporal at ${target.temporalAddress}; ` +
    `create it with \`temporal operator namespace create --namespace ${namespace}\` (or set TEMPORAL_NAMESPACE)`
  );
}

/** "Failed to start Workflow" → "to start Workflow"; without an operation, "the request". */
function refusedWhat(operation: string | undefined): string {
  const m = operation ? /^Failed to (.+)$/i.exec(operation.trim()) : null;
  return m ? `to ${m[1]}` : 'the request';
}

/** Said after a refusal that names an Infty search attribute the namespace does not map (docs/interface.md §11). */
function searchAttributeHint(message: string): string {
  return /search attribute:? Infty/i.test(message)
    ? '; the Infty search attributes are not in effect on this namespace: `infty worker` registers them (docs/interface.md §11)'
    : '';
}

/**
 * The error to report for a failed Temporal request (UsageError: exit 2, UnreachableError: exit 3),
 * or undefined when `err` is not one. The API key never appears in it.
 */
export function temporalFailure(err: unknown, target: TemporalTarget): UsageError | UnreachableError | undefined {
  const status = temporalStatusOf(err);
  if (!status) return undefined;
  const hide = (s: string) => (target.temporalApiKey ? s.split(target.temporalApiKey).join('***') : s);
  const code = CODE_NAMES[status.code];
  switch (temporalFailureKind(status)) {
    case 'unreachable':
      return new UnreachableError(hide(unreachableMessage(target.temporalAddress, `${status.message}; ${code}`)), { cause: err });
    case 'credentials':
      return new UnreachableError(hide(credentialsRefusedMessage(target, status.message)), { cause: err });
    case 'namespace-missing':
      return new UsageError(namespaceMissingMessage(target, status.namespace ?? target.namespace), { cause: err });
    case 'refused':
      return new UsageError(
        hide(
          `Temporal at ${target.temporalAddress} refused ${refusedWhat(status.operation)} (namespace ${target.namespace}): ${status.message} (${code})${searchAttributeHint(status.message)}`,
        ),
        { cause: err },
      );
    case 'server-failed':
      return new UnreachableError(
        hide(
          `Temporal at ${target.temporalAddress} could not complete the request${status.operation ? ` (${status.operation})` : ''}: ${status.message} (${code}); retry, and see the server's log if it persists`,
        ),
        { cause: err },
      );
  }
}
