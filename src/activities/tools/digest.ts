/**
 * The small digest of a tool output the workflow's convergence watchdog sees (docs/behaviour.md
 * §3.7): whether the call failed and a fingerprint of what it printed. It is computed from the
 * tool's structured result when the output is finalized (output.ts) and journaled beside the
 * output; the output itself stays in the journal (docs/architecture.md decision 9).
 */
import { createHash } from 'node:crypto';
import type { ToolErrorKind } from '../../protocol/activities';

export interface ToolOutputDigest {
  failed: boolean;
  /** The first 12 hex digits of the sha256 of the output (a shell result: exit code and output, not its duration). */
  fingerprint: string;
  /** Set when the tool itself failed (a command that exits non-zero is not a tool error). */
  toolError?: ToolErrorKind;
}

/** 12 hex digits of the sha256 of `text`. */
export function fingerprintOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** The digest of a shell result: failed by its exit code; the fingerprint leaves out the duration. */
export function shellDigest(exitCode: number, finalOutput: string): ToolOutputDigest {
  return { failed: exitCode !== 0, fingerprint: fingerprintOf(`${exitCode}\n${finalOutput}`) };
}

/**
 * The digest of a text or error result, from its wire text. An error counts as failed, except an
 * interrupted call: what it did is unknown, and it was never counted failed.
 */
export function textDigest(wireText: string, toolError?: ToolErrorKind): ToolOutputDigest {
  const failed = toolError !== undefined && toolError !== 'interrupted';
  return { failed, fingerprint: fingerprintOf(wireText), ...(toolError ? { toolError } : {}) };
}
