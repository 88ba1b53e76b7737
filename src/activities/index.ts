/** createActivities(deps): the activity object a worker registers. */
import { Context } from '@temporalio/activity';
import type { InftyActivities, ToolActivityInput } from '../protocol/activities';
import { compact } from './compaction';
import { validateDeliverable } from './deliverable';
import { modelStep, type ModelEndpoint } from './model';
import { createRun, updateRunRecord } from './runStore';
import { executeTool } from './tools';
import { commitItems, transcriptPath } from './transcripts';
import { journaled, journalPath } from './tools/journal';

export interface ActivityDeps {
  home: string;
  runsRoot: string;
  defaultModel: string;
  endpoint: ModelEndpoint;
  promptsDir?: string;
  demoEndpoint?: () => Promise<ModelEndpoint>;
  contextWindow?: number;
  autoCompactLimit?: number;
}

/** Tools whose re-execution after a crash is harmless; the others are journaled. */
const IDEMPOTENT_TOOLS = new Set(['read_file', 'list_dir']);

async function runTool(input: ToolActivityInput, deps: ActivityDeps): Promise<string> {
  const ctx = Context.current();
  const execute = () =>
    executeTool(input.call.name, input.call.arguments, {
      runDir: input.runDir,
      sandbox: input.sandbox,
      allowNetwork: input.allowNetwork,
      signal: ctx.cancellationSignal,
      heartbeat: () => ctx.heartbeat(),
    });
  if (IDEMPOTENT_TOOLS.has(input.call.name)) return execute();
  const result = await journaled(journalPath(deps.home, input.runId, input.journalKey), input.call, execute);
  return result.output;
}

export function createActivities(deps: ActivityDeps): InftyActivities {
  const store = { home: deps.home, runsRoot: deps.runsRoot, defaultModel: deps.defaultModel };
  return {
    createRun: (input) => createRun(input, store, Context.current().info.workflowExecution?.runId ?? ''),
    updateRunRecord: (input) => updateRunRecord(input, store),
    recordItems: async (input) =>
      (await commitItems(transcriptPath(deps.home, input.runId, input.role, input.generation), input.committedLength, input.items)).length,
    modelStep: (input) => modelStep(input, deps),
    compact: (input) => compact(input, deps),
    runTool: (input) => runTool(input, deps),
    validateDeliverable: (input) => validateDeliverable(input),
  };
}
