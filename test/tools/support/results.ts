/** Tool results in tests: the text the model sees of one, its error message, a shell result as the model reads it. */
import { finalizeToolOutput, type ToolResult } from '../../../src/activities/tools/output';

/** The text the model sees of `result`: scrubbed, truncated, a shell result as JSON. */
export async function wire(result: ToolResult | Promise<ToolResult>): Promise<string> {
  return finalizeToolOutput(await result).output;
}

/** The message of an error result (a model mistake or a refusal); fails when `result` is anything else. */
export async function errorMessage(result: ToolResult | Promise<ToolResult>): Promise<string> {
  const r = await result;
  if (r.type !== 'error' || r.kind !== 'error_output') throw new Error(`expected an error result, got ${JSON.stringify(r)}`);
  return r.message;
}

export interface ShellWire {
  output: string;
  metadata: { exit_code: number; duration_seconds: number };
}

/** A shell result as the model reads it (the JSON of its wire text); fails when `result` is not a shell result. */
export async function shellWire(result: ToolResult | Promise<ToolResult>): Promise<ShellWire> {
  const r = await result;
  if (r.type !== 'shell') throw new Error(`expected a shell result, got ${JSON.stringify(r)}`);
  return JSON.parse(finalizeToolOutput(r).output) as ShellWire;
}
