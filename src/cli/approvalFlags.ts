/** `--approval POLICY` and `--approval-timeout DURATION` (docs/interface.md §1). */
import { msToNumber } from '@temporalio/common/lib/time';
import { UsageError } from '../errors';
import { APPROVAL_POLICIES, type ApprovalPolicy } from '../protocol/approval';

export function parseApproval(value: string): ApprovalPolicy {
  const policy = APPROVAL_POLICIES.find((p) => p === value);
  if (!policy) throw new UsageError(`--approval must be one of ${APPROVAL_POLICIES.join(', ')}, got "${value}" (nothing was started)`);
  return policy;
}

/** A duration with its unit, as Temporal writes them (`90s`, `30m`, `2h`, `1d`) → whole seconds, at least 1. */
export function parseApprovalTimeout(value: string): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--approval-timeout needs a unit: ${v}s, ${v}m or ${v}h (nothing was started)`);
  let ms: number;
  try {
    ms = msToNumber(v as `${number}s`);
  } catch {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms) || ms < 1000) {
    throw new UsageError(`--approval-timeout must be a duration of at least 1 second, e.g. 90s, 30m, 2h or 1d; got "${value}" (nothing was started)`);
  }
  return Math.round(ms / 1000);
}
