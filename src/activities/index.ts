/** createActivities(deps): the activity object a worker registers. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PriceTable } from '../host/prices';
import type { InftyActivities, RunOwner, ToolActivityInput, ToolCallInput, ToolOutputRef } from '../protocol/activities';
import { isMcpToolName } from '../protocol/mcp';
import { toolSpec } from '../protocol/tools';
import { noteToolError } from '../telemetry/activityMetrics';
import { compact } from './compaction';
import { validateDeliverable } from './deliverable';
import { failpoint } from './durable/failpoints';
import { attemptToken } from './durable/fence';
import { LiveText } from './live';
import { callMcpTool, listMcpTools, mcpTool } from './mcp/tools';
import { type ModelEndpoint, modelStep } from './model';
import { projectChange } from './project/projectChange';
import { createRun, updateRunRecord } from './runStore';
import { snapshotTurn } from './snapshots';
import { executeTool } from './tools';
import { type JournalResult, journaled, journalPath } from './tools/journal';
import { errorResult, type FinalToolOutput, finalizeToolOutput } from './tools/output';
import { commitItems, readTranscript, transcriptPath } from './transcripts';

export interface ActivityDeps {
  home: string;
  runsRoot: string;
  defaultModel: string;
  endpoint: ModelEndpoint;
  promptsDir?: string;
  demoEndpoint?: () => Promise<ModelEndpoint>;
  contextWindow?: number;
  autoCompactLimit?: number;
  /** INFTY_PRICES over the package's price table; absent: the table alone. */
  prices?: PriceTable;
  /** Local storage: this worker's own task queue, where the runs it creates send their file work (docs/architecture.md decision 12). */
  owner?: RunOwner | null;
}

/** Re-running the call after a crash is harmless (the table's `onRetry`); other calls are journaled. */
function rerunsOnRetry(name: string): boolean {
  const spec = toolSpec(name);
  return spec?.runsIn === 'activity' && spec.onRetry === 'rerun';
}

/**
 * The activity of histories from before tool outputs went by reference (docs/architecture.md
 * decision 9): its result, recorded in those histories, is the output text itself. The metrics
 * learn whether its tool failed from the digest, through noteToolError.
 */
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
  const result = rerunsOnRetry(input.call.name) ? await execute() : await journaled(journalPath(deps.home, input.runId, input.journalKey), input.call, execute);
  if (result.digest.toolError) noteToolError(ctx, result.digest.toolError);
  return result.output;
}

/** What the workflow gets of a journaled call: the reference, and the digest recorded with the output. */
function outputRef(journalKey: string, result: JournalResult): ToolOutputRef {
  return { journalKey, bytes: Buffer.byteLength(result.output, 'utf8'), ...result.digest };
}

/** The arguments of a call too large to pass through history, read from the role's transcript. */
async function argumentsOf(input: ToolCallInput, deps: ActivityDeps): Promise<string> {
  if (!input.call.argumentsInTranscript) return input.call.arguments;
  const items = await readTranscript(transcriptPath(deps.home, input.runId, input.role, input.generation));
  const call = items.find((i) => i.type === 'function_call' && i.callId === input.call.callId);
  if (call?.type !== 'function_call') {
    throw ApplicationFailure.nonRetryable(`tool call ${input.call.callId} is not in the ${input.role} transcript`, 'TranscriptCorrupt');
  }
  return call.arguments;
}

/**
 * Runs one tool call and journals its output; returns a reference the next model step reads
 * (docs/architecture.md decisions 2 and 9): the output is recorded in workflow history zero times.
 */
async function runToolCall(input: ToolCallInput, deps: ActivityDeps): Promise<ToolOutputRef> {
  const ctx = Context.current();
  const args = await argumentsOf(input, deps);
  // The tail of a command's output rides on its heartbeats (the live view, src/protocol/live.ts).
  const live = new LiveText({ activity: 'runToolCall', role: input.role, attempt: ctx.info.attempt, callId: input.call.callId, tool: input.call.name });
  const execute = () =>
    executeTool(input.call.name, args, {
      runDir: input.runDir,
      sandbox: input.sandbox,
      allowNetwork: input.allowNetwork,
      passEnv: input.passEnv,
      ...(input.workdir ? { workdir: input.workdir } : {}),
      ...(input.escalated ? { escalated: true } : {}),
      signal: ctx.cancellationSignal,
      heartbeat: () => ctx.heartbeat(live.detail()),
      onOutput: (chunk) => live.output(chunk),
    });
  const path = journalPath(deps.home, input.runId, input.journalKey);
  if (isMcpToolName(input.call.name)) return runMcpCall(input, args, path, deps);
  const result = await journaled(path, { name: input.call.name, arguments: args }, execute, { idempotent: rerunsOnRetry(input.call.name) });
  return outputRef(input.journalKey, result);
}

/**
 * An MCP tool call (docs/architecture.md decision 17): journaled like every tool call; re-run after
 * a crash only when the tool is annotated read-only or idempotent, else reported interrupted.
 */
async function runMcpCall(input: ToolCallInput, args: string, path: string, deps: ActivityDeps): Promise<ToolOutputRef> {
  const ctx = Context.current();
  const found = await mcpTool(deps.home, input.runId, input.call.name);
  const execute = async (): Promise<FinalToolOutput> => {
    if (!found.tool || !found.server) return finalizeToolOutput(errorResult(`unknown tool '${input.call.name}': this run has no such MCP tool.`));
    const timer = setInterval(() => ctx.heartbeat(), 1000);
    try {
      return finalizeToolOutput(await callMcpTool(input.runId, { tool: found.tool, server: found.server }, args, { signal: ctx.cancellationSignal }));
    } finally {
      clearInterval(timer);
    }
  };
  const idempotent = found.tool ? found.tool.readOnly || found.tool.idempotent : true;
  const result = await journaled(path, { name: input.call.name, arguments: args }, execute, { idempotent });
  return outputRef(input.journalKey, result);
}

export function createActivities(deps: ActivityDeps): InftyActivities {
  const store = { home: deps.home, runsRoot: deps.runsRoot, defaultModel: deps.defaultModel, localStorage: !!deps.owner, workerId: deps.owner?.workerId };
  return {
    createRun: async (input) => {
      const ctx = Context.current();
      // A project copy can spend long on one large file: liveness is reported by the clock, not per file.
      const timer = input.project ? setInterval(() => ctx.heartbeat(), 1000) : undefined;
      try {
        const created = await createRun(input, { ...store, heartbeat: () => ctx.heartbeat() }, ctx.info.workflowExecution?.runId ?? '');
        failpoint('createRun.afterCreate');
        return deps.owner ? { ...created, owner: deps.owner } : created;
      } finally {
        if (timer) clearInterval(timer);
      }
    },
    updateRunRecord: (input) => updateRunRecord(input, store),
    recordItems: async (input) => {
      const path = transcriptPath(deps.home, input.runId, input.role, input.generation);
      const length = (await commitItems(path, input.committedLength, input.items, attemptToken())).length;
      failpoint('recordItems.afterAppend');
      return length;
    },
    modelStep: (input) => modelStep(input, deps),
    compact: (input) => compact(input, deps),
    runTool: (input) => runTool(input, deps),
    runToolCall: (input) => runToolCall(input, deps),
    validateDeliverable: (input) => {
      const ctx = Context.current();
      return validateDeliverable(input, () => ctx.heartbeat());
    },
    projectChange: (input) => {
      const ctx = Context.current();
      return projectChange(input, deps.home, () => ctx.heartbeat());
    },
    listMcpTools: async (input) => {
      const ctx = Context.current();
      const timer = setInterval(() => ctx.heartbeat(), 1000);
      try {
        return await listMcpTools(input, deps.home);
      } finally {
        clearInterval(timer);
      }
    },
    snapshotTurn: async (input) => {
      const ctx = Context.current();
      // One large file (a project's) can take longer than the heartbeat timeout to store.
      const timer = setInterval(() => ctx.heartbeat(), 1000);
      try {
        return await snapshotTurn(input, deps.home, () => ctx.heartbeat());
      } finally {
        clearInterval(timer);
      }
    },
  };
}
