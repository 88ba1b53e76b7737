/** Tool dispatch: parses the model's JSON arguments and runs the named tool. */
import { scrubSecrets } from '../secrets';
import { applyPatch } from './applyPatch';
import type { ToolContext } from './context';
import { listDir } from './listDir';
import { finalizeToolOutput, type ToolResult } from './output';
import { readFile } from './readFile';
import { shellTool } from './shell';
import { truncateToolOutput } from './truncate';

export type { ToolContext } from './context';
export { ALL_TOOLS, READ_ONLY_TOOLS, TOOL_DEFINITIONS, isToolName, type ToolDefinition, type ToolName } from './definitions';
export { PathOutsideRunDirError, resolveInsideRunDir } from './paths';
export { detectSandbox, wrapCommand, type SandboxMode } from './sandbox';
export { detectProcessGuard } from './processGuard';
export { truncateToolOutput } from './truncate';
export { applyPatch, parsePatch, PatchParseError } from './applyPatch';
export { listDir } from './listDir';
export { readFile } from './readFile';
export { runShell } from './shell';

const HANDLERS: Record<string, (args: unknown, ctx: ToolContext) => Promise<ToolResult>> = {
  shell: shellTool,
  apply_patch: applyPatch,
  read_file: readFile,
  list_dir: listDir,
};

/**
 * Runs tool `name` with the model's raw JSON `rawArguments`. Model mistakes (bad JSON, unknown
 * tool, invalid arguments, refused paths) come back as error text; only internal failures throw.
 * Every text returned (and every thrown message) is scrubbed of the worker's secrets, then
 * truncated to the tool-output bound.
 */
export async function executeTool(name: string, rawArguments: string, ctx: ToolContext): Promise<string> {
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
  if (name === 'update_plan') {
    return 'Error: update_plan is handled by the orchestrator and cannot be executed as a tool here.';
  }
  const handler = Object.prototype.hasOwnProperty.call(HANDLERS, name) ? HANDLERS[name] : undefined;
  if (!handler) {
    return `Error: unknown tool '${name}'. Available tools: ${[...Object.keys(HANDLERS), 'update_plan'].join(', ')}.`;
  }
  let args: unknown;
  const raw = rawArguments.trim();
  try {
    args = raw === '' ? {} : JSON.parse(raw);
  } catch (e) {
    return `Error: the arguments for ${name} are not valid JSON (${(e as Error).message}). Send the arguments as a JSON object, e.g. ${exampleFor(name)}.`;
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return `Error: the arguments for ${name} must be a JSON object, e.g. ${exampleFor(name)}.`;
  }
  return handler(args, ctx);
}

function exampleFor(name: string): string {
  switch (name) {
    case 'shell':
      return '{"command": ["bash", "-lc", "ls"]}';
    case 'apply_patch':
      return '{"input": "*** Begin Patch\\n...\\n*** End Patch"}';
    case 'read_file':
      return '{"path": "README.md"}';
    default:
      return '{"path": "."}';
  }
}
