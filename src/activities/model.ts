/**
 * One model step of a role over its transcript (docs/architecture.md decision 1): truncate to the committed
 * length, append the new input, call the model statelessly with the normalized history, append the
 * output, and return only what the workflow decides on. A retry that finds the step already
 * written for the same committed prefix returns it without calling the model again.
 */
import { createHash } from 'node:crypto';
import { costOf, NO_OVERRIDES, type PriceTable } from '../host/prices';
import { type ModelStepInput, type ModelStepResult, type NewItem, PROMPT_TEMPLATE_ROLES } from '../protocol/activities';
import type { StepEnd, TranscriptItem } from '../protocol/items';
import { OUTPUT_SCHEMAS } from '../protocol/outputSchemas';
import { type ToolDefinition, toolDefinitions } from '../protocol/tools';
import { autoCompactLimitOf } from './contextWindows';
import { failpoint } from './durable/failpoints';
import { attemptToken } from './durable/fence';
import { offeredTools } from './mcp/tools';
import { normalizeHistory } from './normalize';
import { projectDocsFor } from './project/projectDocs';
import { loadPrompt, renderTemplate } from './prompts';
import { stepResult } from './stepResult';
import { journalPath, readJournalOutput } from './tools/journal';
import { beginStep, endStep, transcriptPath } from './transcripts';
import { callModel, type ModelEndpoint } from './wire/call';
import type { WireRequest, WireResult } from './wire/types';

export type { ModelEndpoint } from './wire/call';

export interface ModelDeps {
  home: string;
  promptsDir?: string;
  endpoint: ModelEndpoint;
  /** Worker-wide overrides (INFTY_CONTEXT_WINDOW, INFTY_AUTO_COMPACT_LIMIT); else per model. */
  contextWindow?: number;
  autoCompactLimit?: number;
  /** The built-in scripted endpoint used by demo runs (started on first use). */
  demoEndpoint?: () => Promise<ModelEndpoint>;
  /** INFTY_PRICES over the package's price table (src/host/prices.ts); absent: the table alone. */
  prices?: PriceTable;
}

/**
 * A new item as written to the transcript: prompt templates rendered (as `developer` messages: they
 * are the orchestrator's instructions, PROMPT_TEMPLATE_ROLES), tool outputs read from the journal.
 */
export async function renderNewItem(item: NewItem, runId: string, deps: Pick<ModelDeps, 'home' | 'promptsDir'>): Promise<TranscriptItem> {
  if (item.type === 'prompt_message') {
    const role = PROMPT_TEMPLATE_ROLES[item.template] ?? 'user';
    const vars = item.template === 'budget_limit' ? budgetLimitDefaults(item.vars) : item.vars;
    return { type: 'message', role, text: renderTemplate(loadPrompt(item.template, deps.promptsDir), vars) };
  }
  if (item.type === 'tool_output_ref') {
    return { type: 'function_call_output', callId: item.callId, output: await readJournalOutput(journalPath(deps.home, runId, item.journalKey)) };
  }
  return item;
}

/**
 * The budget-limit message of a run without a cost budget (and of a workflow older than the cost
 * budget) names the token budget, exactly as it always read; a cost-budget run sends its own lines.
 */
export function budgetLimitDefaults(vars: Record<string, string>): Record<string, string> {
  return {
    budget_heading: 'Token budget reached',
    budget_lines: `- Tokens used: ${vars.tokens_used ?? '?'} of ${vars.token_budget ?? 'none'}`,
    ...vars,
  };
}

function instructionsText(input: ModelStepInput, promptsDir?: string): string {
  return input.instructions.kind === 'text' ? input.instructions.text : loadPrompt(input.instructions.name, promptsDir);
}

/**
 * The first lines of a new conversation: the role's instructions, then, for the Solver and the
 * Verifiers, the run's AGENTS.md text (docs/behaviour.md §4.5) — instructions too, so they are part
 * of the cached prefix and survive compaction.
 */
async function freshInstructions(input: ModelStepInput, deps: ModelDeps): Promise<TranscriptItem[]> {
  const items: TranscriptItem[] = [{ type: 'instructions', text: instructionsText(input, deps.promptsDir) }];
  const docs = await projectDocsFor(deps.home, input.runId, input.role);
  if (docs) items.push({ type: 'instructions', text: docs });
  return items;
}

export function buildWireRequest(input: ModelStepInput, history: TranscriptItem[], stream: boolean, tools?: ToolDefinition[]): WireRequest {
  const { instructions, items } = normalizeHistory(history);
  return {
    model: input.model,
    instructions,
    items,
    tools: tools ?? toolDefinitions(input.tools),
    outputSchema: input.outputSchema ? { name: input.outputSchema, schema: OUTPUT_SCHEMAS[input.outputSchema] } : null,
    ...(input.toolChoice ? { toolChoice: input.toolChoice } : {}),
    promptCacheKey: `${input.runId}:${input.role}`,
    stream,
    ...(input.reasoningEffort ? { reasoningEffort: input.reasoningEffort } : {}),
  };
}

export function resolveEndpoint(demo: boolean, deps: ModelDeps): Promise<ModelEndpoint> | ModelEndpoint {
  return demo && deps.demoEndpoint ? deps.demoEndpoint() : deps.endpoint;
}

/** The reply's output items in the order the model produced them (reasoning before what it preceded), as transcript lines. */
export function outputItems(result: WireResult): TranscriptItem[] {
  return result.output.flatMap((item): TranscriptItem[] => {
    if (item.type === 'message') return item.text === '' ? [] : [{ type: 'message', role: 'assistant', text: item.text }];
    if (item.type === 'function_call') return [{ type: 'function_call', callId: item.callId, name: item.name, arguments: item.arguments }];
    return [
      {
        type: 'reasoning',
        ...(item.id !== undefined ? { id: item.id } : {}),
        ...(item.encryptedContent !== undefined ? { encryptedContent: item.encryptedContent } : {}),
        summary: item.summary,
      },
    ];
  });
}

function inputSha256(input: ModelStepInput, newItems: TranscriptItem[]): string {
  const key = { newItems, model: input.model, tools: input.tools, schema: input.outputSchema, toolChoice: input.toolChoice ?? null };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

export async function modelStep(input: ModelStepInput, deps: ModelDeps): Promise<ModelStepResult> {
  const token = attemptToken();
  const path = transcriptPath(deps.home, input.runId, input.role, input.generation);
  const fresh: TranscriptItem[] = input.committedLength === 0 ? await freshInstructions(input, deps) : [];
  const rendered = await Promise.all(input.newItems.map((i) => renderNewItem(i, input.runId, deps)));
  const newItems = [...fresh, ...rendered];
  const sha = inputSha256(input, newItems);
  const limit = autoCompactLimitOf(input.model, {
    contextWindow: input.contextWindow ?? deps.contextWindow,
    autoCompactLimit: input.autoCompactLimit ?? (input.contextWindow ? undefined : deps.autoCompactLimit),
  });

  const { history, bytes, written } = await beginStep(path, input.committedLength, newItems, sha, token);
  // The cost of the step, priced as the model that answered (docs/behaviour.md §5.2); the workflow sums it.
  // The demo's scripted endpoint runs inside the worker and costs nothing.
  const priced = (end: StepEnd, res: ModelStepResult): ModelStepResult => ({
    ...res,
    costUsd: input.demo ? 0 : costOf(end.usage, { answering: end.model, requested: input.model }, deps.prices ?? NO_OVERRIDES),
  });
  if (written) return priced(written.end, stepResult(written.outputs, written.end, written.length, limit));

  const endpoint = await resolveEndpoint(input.demo, deps);
  const request = buildWireRequest(input, history, endpoint.stream, await offeredTools(deps.home, input.runId, input.tools));
  const result = await callModel(endpoint, request, { runId: input.runId, role: input.role, purpose: 'turn' });
  failpoint('model.afterResponse');
  const outputs = outputItems(result);
  const end: StepEnd = {
    type: 'step_end',
    input_sha256: sha,
    usage: result.usage,
    ...(result.incomplete ? { incomplete: result.incomplete.reason } : {}),
    ...(result.model ? { model: result.model } : {}),
  };
  const length = await endStep(path, { lines: history.length, bytes }, outputs, end, token);
  failpoint('model.afterAppend');
  return priced(end, stepResult(outputs, end, length, limit));
}
