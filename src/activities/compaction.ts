/**
 * Automatic compaction (docs/behaviour.md §6): summarize a role's history with the compaction prompt, then start
 * a new transcript generation holding instructions + recent user messages + the prefixed summary.
 * The old generation stays on disk for audit.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { CompactInput, CompactResult } from '../protocol/activities';
import type { StepEnd, TranscriptItem, Usage } from '../protocol/items';
import { attemptToken } from './durable/fence';
import { failpoint } from './durable/failpoints';
import { resolveEndpoint, type ModelDeps } from './model';
import { callModel } from './wire/call';
import { normalizeHistory, type ConversationItem } from './normalize';
import { loadPrompt } from './prompts';
import { toolDefinitions } from '../protocol/tools';
import { readTranscript, transcriptPath, writeTranscript } from './transcripts';
import type { WireResult } from './wire/types';

/** Budget for the recent user messages kept verbatim (docs/behaviour.md §6.5: ~20k tokens). */
export const KEPT_USER_TOKENS = 20_000;
const MAX_DROP_ATTEMPTS = 8;

export const approxTokens = (text: string): number => Math.ceil(text.length / 4);

export function middleTruncate(text: string, maxTokens: number): string {
  const maxChars = Math.max(0, maxTokens * 4);
  if (text.length <= maxChars) return text;
  const half = Math.floor(maxChars / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters truncated …]\n${text.slice(text.length - half)}`;
}

/** The rebuilt history: instructions, the most recent real user messages (within budget), the summary, pending calls. */
export function rebuildHistory(transcript: TranscriptItem[], summary: string, prefix: string, budget = KEPT_USER_TOKENS): TranscriptItem[] {
  const history = transcript.filter((i) => i.type !== 'step_end');
  const instructions = history.filter((i) => i.type === 'instructions');
  const users = history.flatMap((i) => (i.type === 'message' && i.role === 'user' && !i.text.startsWith(prefix) ? [i.text] : []));
  const kept: string[] = [];
  let left = budget;
  for (let k = users.length - 1; k >= 0 && left > 0; k--) {
    const text = users[k]!;
    const cost = approxTokens(text);
    if (cost <= left) {
      kept.unshift(text);
      left -= cost;
    } else {
      kept.unshift(middleTruncate(text, left));
      left = 0;
    }
  }
  // Calls at the very end are waiting for outputs the workflow will append next: keep them.
  const pending: TranscriptItem[] = [];
  for (let k = history.length - 1; k >= 0 && history[k]!.type === 'function_call'; k--) pending.unshift(history[k]!);
  return [
    ...instructions,
    ...kept.map((text): TranscriptItem => ({ type: 'message', role: 'user', text })),
    { type: 'message', role: 'user', text: `${prefix}\n\n${summary}` },
    ...pending,
  ];
}

function isContextLength(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'ContextLengthExceeded';
}

/** Drops the oldest fifth of the conversation (at least one item) for a retry that fits. */
function dropOldest(items: ConversationItem[]): ConversationItem[] {
  const n = Math.max(1, Math.floor(items.length / 5));
  return normalizeHistory(items.slice(n)).items;
}

/** What identifies one compaction: the generation and committed length it summarizes. */
function compactionSha(input: CompactInput): string {
  const key = { compact: { generation: input.generation, committedLength: input.committedLength, model: input.model } };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

/** A compaction a previous attempt already wrote whole (its last line is the matching step_end). */
async function writtenCompaction(path: string, sha: string, generation: number): Promise<CompactResult | undefined> {
  const items = await readTranscript(path).catch(() => []);
  const end = items[items.length - 1];
  if (end?.type !== 'step_end' || end.input_sha256 !== sha) return undefined;
  return { generation, length: items.length, usage: end.usage, droppedItems: end.dropped_items ?? 0 };
}

export async function compact(input: CompactInput, deps: ModelDeps): Promise<CompactResult> {
  const token = attemptToken();
  const generation = input.generation + 1;
  const path = transcriptPath(deps.home, input.runId, input.role, generation);
  const sha = compactionSha(input);
  const done = await writtenCompaction(path, sha, generation);
  if (done) return done;

  const history = await readTranscript(transcriptPath(deps.home, input.runId, input.role, input.generation), input.committedLength);
  const { instructions, items } = normalizeHistory(history);
  const endpoint = await resolveEndpoint(input.demo, deps);
  const request = (conversation: ConversationItem[]) => ({
    model: input.model,
    instructions,
    items: [...conversation, { type: 'message' as const, role: 'user' as const, text: loadPrompt('compact', deps.promptsDir) }],
    tools: toolDefinitions(input.tools),
    toolChoice: 'none' as const,
    outputSchema: null,
    promptCacheKey: `${input.runId}:${input.role}`,
    stream: endpoint.stream,
  });
  let conversation = items;
  let result: WireResult | undefined;
  const usage: Usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  for (let attempt = 0; !result; attempt++) {
    try {
      result = await callModel(endpoint, request(conversation), { runId: input.runId, role: input.role, purpose: 'compaction' });
    } catch (err) {
      if (!isContextLength(err) || attempt >= MAX_DROP_ATTEMPTS || conversation.length <= 1) throw err;
      conversation = dropOldest(conversation);
    }
  }
  for (const k of ['inputTokens', 'cachedInputTokens', 'outputTokens', 'reasoningTokens'] as const) usage[k] += result.usage[k];
  if (result.usage.estimated) usage.estimated = true;
  const summary = result.text?.trim();
  if (!summary) throw ApplicationFailure.create({ message: 'the compaction request returned no summary', type: 'ModelUnavailable' });

  const droppedItems = items.length - conversation.length;
  const rebuilt = rebuildHistory(history, summary, loadPrompt('compact_summary_prefix', deps.promptsDir));
  const end: StepEnd = { type: 'step_end', input_sha256: sha, usage, dropped_items: droppedItems };
  await writeTranscript(path, [...rebuilt, end], token);
  failpoint('compaction.afterWrite');
  return { generation, length: rebuilt.length + 1, usage, droppedItems };
}
