/**
 * What a tool returns, and its finalization: the text the model sees (secrets scrubbed, then
 * truncated by the one mechanism) and the watchdog's digest, both made from the structure. Only
 * the wire text says `Error: …`; no code reads that prefix back (but the journal, for entries
 * older workers wrote: legacyDigestOfOutputText).
 */
import type { ToolErrorKind } from '../../protocol/activities';
import { scrubSecrets } from '../secrets';
import { shellDigest, type ToolOutputDigest, textDigest } from './digest';
import { type ToolText, truncateToolOutput } from './truncate';

export interface ShellMetadata {
  exit_code: number;
  duration_seconds: number;
}

/**
 * What a tool returns before finalization:
 * - `text`: the tool did its work (a file's lines, a listing, a patch applied, an MCP tool's answer);
 * - `error`: the tool refused or could not do it — `error_output` a model mistake, a refusal or an
 *   error answer, `internal` a failure inside the worker, `interrupted` a call a crash cut short;
 * - `shell`: a command ran; its output and exit code (non-zero is the command's failure, not the tool's).
 */
export type ToolResult =
  | { type: 'text'; text: string }
  | { type: 'error'; kind: ToolErrorKind; message: string }
  | { type: 'shell'; output: ToolText; metadata: ShellMetadata };

/** The finalized output: the text the model sees (and the journal keeps), and the watchdog's digest of it. */
export interface FinalToolOutput {
  output: string;
  digest: ToolOutputDigest;
}

export function textResult(text: string): ToolResult {
  return { type: 'text', text };
}

/** The one way to make an error result; the model sees `Error: <message>` (an interrupted call: the message alone). */
export function errorResult(message: string, kind: ToolErrorKind = 'error_output'): ToolResult {
  return { type: 'error', kind, message };
}

export function shellResult(output: ToolText, metadata: ShellMetadata): ToolResult {
  return { type: 'shell', output, metadata };
}

/** The text the model sees and its digest; a shell result stays valid JSON, with only its `output` truncated. */
export function finalizeToolOutput(result: ToolResult, env: NodeJS.ProcessEnv = process.env): FinalToolOutput {
  const scrub = (text: string): string => scrubSecrets(text, env);
  if (result.type === 'shell') {
    const { output, metadata } = result;
    const scrubbed: ToolText = typeof output === 'string' ? scrub(output) : { ...output, head: scrub(output.head), tail: scrub(output.tail) };
    const finalOutput = truncateToolOutput(scrubbed);
    return { output: JSON.stringify({ output: finalOutput, metadata }), digest: shellDigest(metadata.exit_code, finalOutput) };
  }
  if (result.type === 'text') {
    const output = truncateToolOutput(scrub(result.text));
    return { output, digest: textDigest(output) };
  }
  const output = truncateToolOutput(scrub(result.kind === 'interrupted' ? result.message : `Error: ${result.message}`));
  return { output, digest: textDigest(output, result.kind) };
}
