/**
 * The small digest of a tool output the workflow's convergence watchdog sees (docs/behaviour.md
 * §3.7): whether the call failed and a fingerprint of what it printed. The output itself stays in
 * the journal (docs/architecture.md decision 9).
 */
import { createHash } from 'node:crypto';
import type { ToolErrorKind } from '../../protocol/activities';
import { INTERRUPTED_OUTPUT } from './journal';

export interface ToolOutputDigest {
  failed: boolean;
  /** The first 12 hex digits of the sha256 of the output (a shell result: exit code and output, not its duration). */
  fingerprint: string;
  /** Set when the tool itself failed (a command that exits non-zero is not a tool error). */
  toolError?: ToolErrorKind;
}

export function digestToolOutput(output: string): ToolOutputDigest {
  const shell = shellResult(output);
  const failed = shell ? shell.exitCode !== 0 : output.startsWith('Error:');
  const stable = shell ? `${shell.exitCode}\n${shell.output}` : output;
  const toolError = toolOutputError(output);
  return { failed, fingerprint: createHash('sha256').update(stable).digest('hex').slice(0, 12), ...(toolError ? { toolError } : {}) };
}

/** Whether an output says the tool itself failed, and how. */
export function toolOutputError(output: string): ToolErrorKind | undefined {
  if (output === INTERRUPTED_OUTPUT) return 'interrupted';
  if (output.startsWith('Error: the tool failed inside the worker')) return 'internal';
  if (output.startsWith('Error:')) return 'error_output';
  return undefined;
}

/** A shell result `{"output": …, "metadata": {"exit_code": n, …}}`, else undefined. */
function shellResult(output: string): { exitCode: number; output: string } | undefined {
  if (!output.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(output) as { output?: unknown; metadata?: { exit_code?: unknown } };
    const exitCode = parsed.metadata?.exit_code;
    if (typeof parsed.output !== 'string' || typeof exitCode !== 'number') return undefined;
    return { exitCode, output: parsed.output };
  } catch {
    return undefined;
  }
}
