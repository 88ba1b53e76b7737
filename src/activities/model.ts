/**
 * One model step of a role over its transcript (ARCHITECTURE decision 1): truncate to the committed
 * length, append the new input, call the model statelessly with the normalized history, append the
 * output, and return only what the workflow decides on.
 */
import type { ModelStepInput, ModelStepResult, NewItem } from '../protocol/activities';
import type { TranscriptItem } from '../protocol/items';
import { OUTPUT_SCHEMAS } from '../protocol/outputSchemas';
import { autoCompactLimitOf } from './contextWindows';
import { loadPrompt, renderTemplate } from './prompts';
import { isToolName, TOOL_DEFINITIONS } from './tools/definitions';
import { normalizeHistory } from './normalize';
import { appendItems, commitItems, transcriptPath } from './transcripts';
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
}

export function renderNewItem(item: NewItem, promptsDir?: string): TranscriptItem {
  if (item.type !== 'prompt_message') return item;
  return { type: 'message', role: 'user', text: renderTemplate(loadPrompt(item.template, promptsDir), item.vars) };
}

function instructionsText(input: ModelStepInput, promptsDir?: string): string {
  return input.instructions.kind === 'text' ? input.instructions.text : loadPrompt(input.instructions.name, promptsDir);
}

export function buildWireRequest(input: ModelStepInput, history: TranscriptItem[], stream: boolean): WireRequest {
  const { instructions, items } = normalizeHistory(history);
  return {
    model: input.model,
    instructions,
    items,
    tools: input.tools.filter(isToolName).map((name) => TOOL_DEFINITIONS[name]),
    outputSchema: input.outputSchema ? { name: input.outputSchema, schema: OUTPUT_SCHEMAS[input.outputSchema] as Record<string, unknown> } : null,
    promptCacheKey: `${input.runId}:${input.role}`,
    stream,
  };
}

export function resolveEndpoint(demo: boolean, deps: ModelDeps): Promise<ModelEndpoint> | ModelEndpoint {
  return demo && deps.demoEndpoint ? deps.demoEndpoint() : deps.endpoint;
}

export function outputItems(result: WireResult): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  if (result.text !== null && result.text !== '') items.push({ type: 'message', role: 'assistant', text: result.text });
  for (const c of result.toolCalls) items.push({ type: 'function_call', callId: c.callId, name: c.name, arguments: c.arguments });
  return items;
}

export async function modelStep(input: ModelStepInput, deps: ModelDeps): Promise<ModelStepResult> {
  const path = transcriptPath(deps.home, input.runId, input.role, input.generation);
  const fresh: TranscriptItem[] = input.committedLength === 0 ? [{ type: 'instructions', text: instructionsText(input, deps.promptsDir) }] : [];
  const newItems = [...fresh, ...input.newItems.map((i) => renderNewItem(i, deps.promptsDir))];
  const history = await commitItems(path, input.committedLength, newItems);

  const endpoint = await resolveEndpoint(input.demo, deps);
  const request = buildWireRequest(input, history, endpoint.stream);
  const result = await callModel(endpoint, request, { runId: input.runId, role: input.role, purpose: 'turn' });
  const limit = autoCompactLimitOf(input.model, {
    contextWindow: input.contextWindow ?? deps.contextWindow,
    autoCompactLimit: input.autoCompactLimit ?? (input.contextWindow ? undefined : deps.autoCompactLimit),
  });

  const produced = outputItems(result);
  await appendItems(path, produced);
  return {
    length: history.length + produced.length,
    text: result.text,
    toolCalls: result.toolCalls,
    usage: result.usage,
    compactionDue: result.usage.inputTokens >= limit,
  };
}

