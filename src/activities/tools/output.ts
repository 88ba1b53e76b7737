/** The final text of every tool call: secrets scrubbed, then truncated by the one mechanism. */
import { scrubSecrets } from '../secrets';
import { type ToolText, truncateToolOutput } from './truncate';

export interface ShellMetadata {
  exit_code: number;
  duration_seconds: number;
}

/** What a tool returns before finalization: plain text, or the shell's output and metadata. */
export type ToolResult = string | { output: ToolText; metadata: ShellMetadata };

function scrub(text: ToolText, env: NodeJS.ProcessEnv): ToolText {
  if (typeof text === 'string') return scrubSecrets(text, env);
  return { ...text, head: scrubSecrets(text.head, env), tail: scrubSecrets(text.tail, env) };
}

/** The text the model sees; shell results stay valid JSON, with only their `output` truncated. */
export function finalizeToolOutput(result: ToolResult, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof result === 'string') return truncateToolOutput(scrubSecrets(result, env));
  return JSON.stringify({ output: truncateToolOutput(scrub(result.output, env)), metadata: result.metadata });
}
