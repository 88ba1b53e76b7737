/** Tool dispatch: parses the model's JSON arguments and runs the named tool. */

import { parseToolArguments } from '../../protocol/toolArguments';
import { type ActivityToolName, isActivityTool, isWorkflowTool, TOOL_NAMES, TOOLS } from '../../protocol/tools';
import { scrubSecrets } from '../secrets';
import { applyPatch } from './applyPatch';
import type { ToolContext } from './context';
import { listDir } from './listDir';
import { errorResult, type FinalToolOutput, finalizeToolOutput, type ToolResult } from './output';
import { readFile } from './readFile';
import { shellTool } from './shell';
import { truncateToolOutput } from './truncate';

export { applyPatch, PatchParseError, parsePatch } from './applyPatch';
export type { ToolContext } from './context';
export { listDir } from './listDir';
export { PathOutsideRunDirError, resolveInsideRunDir } from './paths';
export { detectProcessGuard } from './processGuard';
export { readFile } from './readFile';
export { detectSandbox, type SandboxMode, wrapCommand } from './sandbox';
export { shellTool } from './shell';
export { truncateToolOutput } from './truncate';

/** The implementation of every tool the table runs in an activity. */
const ACTIVITY_TOOLS: Record<ActivityToolName, (args: unknown, ctx: ToolContext) => Promise<ToolResult>> = {
  shell: shellTool,
  apply_patch: applyPatch,
  read_file: readFile,
  list_dir: listDir,
};

/**
 * Runs tool `name` with the model's raw JSON `rawArguments`. Model mistakes (bad JSON, unknown
 * tool, invalid arguments, refused paths) come back as error results; only internal failures
 * throw. Returns the finalized output: its text (as every thrown message) scrubbed of the
 * worker's secrets, then truncated to the tool-output bound, and its digest.
 */
export async function executeTool(name: string, rawArguments: string, ctx: ToolContext): Promise<FinalToolOutput> {
  try {
    return finalizeToolOutput(await dispatch(name, rawArguments, ctx));
  } catch (e) {
    if (e instanceof Error) {
      e.message = truncateToolOutput(scrubSecrets(e.message));
      if (e.stack) e.stack = scrubSecrets(e.stack);
    }
    throw e;
  }
}

async function dispatch(name: string, rawArguments: string, ctx: ToolContext): Promise<ToolResult> {
  if (isWorkflowTool(name)) {
    return errorResult(`${name} is handled by the orchestrator and cannot be executed as a tool here.`);
  }
  if (!isActivityTool(name)) {
    return errorResult(`unknown tool '${name}'. Available tools: ${TOOL_NAMES.join(', ')}.`);
  }
  const example = TOOLS[name].exampleArguments;
  const parsed = parseToolArguments(rawArguments);
  if (!parsed.ok && parsed.error === 'invalid_json') {
    return errorResult(`the arguments for ${name} are not valid JSON (${parsed.detail}). Send the arguments as a JSON object, e.g. ${example}.`);
  }
  if (!parsed.ok) return errorResult(`the arguments for ${name} must be a JSON object, e.g. ${example}.`);
  return ACTIVITY_TOOLS[name](parsed.args, ctx);
}
