/**
 * Automatic compaction (docs/behaviour.md §6.5). On a Responses endpoint that has `POST /responses/compact`
 * the endpoint compacts the history and the new transcript generation holds the instructions, the
 * user messages it kept and its opaque compaction item; elsewhere (Chat Completions, or an endpoint
 * without it, remembered per endpoint) the history is summarized with the compaction prompt and the
 * new generation holds instructions + recent user messages + the prefixed summary. Either way pending
 * tool calls follow, and a `step_end` line identifying the compaction ends the generation, so a
 * retried attempt reuses it. The old generation stays on disk for audit.
 */

import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { costOf, NO_OVERRIDES } from '../host/prices';
import type { CompactInput, CompactResult } from '../protocol/activities';
import type { StepEnd, TranscriptItem, Usage } from '../protocol/items';
import { failpoint } from './durable/failpoints';
import { attemptToken } from './durable/fence';
import { offeredTools } from './mcp/tools';
import { type ModelDeps, resolveEndpoint } from './model';
import { type ConversationItem, normalizeHistory } from './normalize';
import { loadPrompt } from './prompts';
import { readTranscript, transcriptPath, writeTranscript } from './transcripts';
import { callModel, type ModelEndpoint } from './wire/call';
import { compactRemotely, mayCompactRemotely } from './wire/compact';

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

/**
 * Calls at the very end of a history are waiting for outputs the workflow will append next: they are
 * carried into the new generation, with the reasoning items right before them (a reasoning item goes
 * with what follows it).
 */
export function pendingTail(transcript: TranscriptItem[]): TranscriptItem[] {
  const history = transcript.filter((i) => i.type !== 'step_end');
  let k = history.length;
  while (k > 0 && history[k - 1]!.type === 'function_call') k--;
  if (k === history.length) return [];
  while (k > 0 && history[k - 1]!.type === 'reasoning') k--;
  return history.slice(k);
}

/** The most recent texts within `budget` tokens, oldest first; the oldest kept one middle-truncated to fit. */
export function recentWithin(users: string[], budget = KEPT_USER_TOKENS): string[] {
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
  return kept;
}

/** The rebuilt history: instructions, the most recent real user messages (within budget), the summary, pending calls. */
export function rebuildHistory(transcript: TranscriptItem[], summary: string, prefix: string, budget = KEPT_USER_TOKENS): TranscriptItem[] {
  const history = transcript.filter((i) => i.type !== 'step_end');
  const instructions = history.filter((i) => i.type === 'instructions');
  const users = history.flatMap((i) => (i.type === 'message' && i.role === 'user' && !i.text.startsWith(prefix) ? [i.text] : []));
  return [
    ...instructions,
    ...recentWithin(users, budget).map((text): TranscriptItem => ({ type: 'message', role: 'user', text })),
    { type: 'message', role: 'user', text: `${prefix}\n\n${summary}` },
    ...pendingTail(history),
  ];
}

/**
 * The history after a remote compaction: instructions, the user messages the endpoint kept (the most
 * recent within the same budget as locally), its compaction item(s) in its order, pending calls.
 */
export function rebuildRemoteHistory(transcript: TranscriptItem[], returned: TranscriptItem[], budget = KEPT_USER_TOKENS): TranscriptItem[] {
  const instructions = transcript.filter((i) => i.type === 'instructions');
  const users = returned.flatMap((i) => (i.type === 'message' ? [i.text] : []));
  const kept = recentWithin(users, budget);
  const skip = users.length - kept.length;
  let seen = 0;
  const body: TranscriptItem[] = [];
  for (const item of returned) {
    if (item.type !== 'message') body.push(item);
    else if (seen++ >= skip) body.push({ type: 'message', role: 'user', text: kept[seen - 1 - skip]! });
  }
  return [...instructions, ...body, ...pendingTail(transcript)];
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

/** Calls `send` with the conversation, dropping the oldest fifth and retrying while the endpoint refuses it for length. */
async function fitting<R>(
  items: ConversationItem[],
  send: (conversation: ConversationItem[]) => Promise<R>,
): Promise<{ result: R; conversation: ConversationItem[] }> {
  let conversation = items;
  for (let attempt = 0; ; attempt++) {
    try {
      return { result: await send(conversation), conversation };
    } catch (err) {
      if (!isContextLength(err) || attempt >= MAX_DROP_ATTEMPTS || conversation.length <= 1) throw err;
      conversation = dropOldest(conversation);
    }
  }
}

/**
 * The remote path: the history without its pending calls (they follow the compaction item instead of
 * being summarized as aborted). Undefined when the endpoint has no compaction endpoint.
 */
async function compactOnEndpoint(input: CompactInput, history: TranscriptItem[], endpoint: ModelEndpoint) {
  const pending = pendingTail(history).length;
  const { instructions, items } = normalizeHistory(history.filter((i) => i.type !== 'step_end').slice(0, pending ? -pending : undefined));
  const tags = { runId: input.runId, role: input.role, purpose: 'compaction' as const };
  const { result, conversation } = await fitting(items, (conversation) =>
    compactRemotely(
      endpoint,
      {
        model: input.model,
        instructions,
        items: conversation,
        tools: [],
        outputSchema: null,
        promptCacheKey: `${input.runId}:${input.role}`,
        stream: false,
      },
      tags,
    ),
  );
  if (!result) return undefined;
  return { rebuilt: rebuildRemoteHistory(history, result.items), usage: result.usage, droppedItems: items.length - conversation.length };
}

/** The local path: the history plus the compaction prompt, answered with a summary. */
async function summarizeLocally(input: CompactInput, history: TranscriptItem[], endpoint: ModelEndpoint, deps: ModelDeps) {
  const { instructions, items } = normalizeHistory(history);
  const tools = await offeredTools(deps.home, input.runId, input.tools);
  const request = (conversation: ConversationItem[]) => ({
    model: input.model,
    instructions,
    items: [...conversation, { type: 'message' as const, role: 'user' as const, text: loadPrompt('compact', deps.promptsDir) }],
    tools,
    toolChoice: 'none' as const,
    outputSchema: null,
    promptCacheKey: `${input.runId}:${input.role}`,
    stream: endpoint.stream,
    ...(input.reasoningEffort ? { reasoningEffort: input.reasoningEffort } : {}),
  });
  const { result, conversation } = await fitting(items, (conversation) =>
    callModel(endpoint, request(conversation), { runId: input.runId, role: input.role, purpose: 'compaction' }),
  );
  const usage: Usage = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 };
  for (const k of ['inputTokens', 'cachedInputTokens', 'outputTokens', 'reasoningTokens'] as const) usage[k] += result.usage[k];
  if (result.usage.estimated) usage.estimated = true;
  const summary = result.text?.trim();
  if (!summary) throw ApplicationFailure.create({ message: 'the compaction request returned no summary', type: 'ModelUnavailable' });
  const rebuilt = rebuildHistory(history, summary, loadPrompt('compact_summary_prefix', deps.promptsDir));
  return { rebuilt, usage, droppedItems: items.length - conversation.length };
}

export async function compact(input: CompactInput, deps: ModelDeps): Promise<CompactResult> {
  const token = attemptToken();
  const generation = input.generation + 1;
  const path = transcriptPath(deps.home, input.runId, input.role, generation);
  const sha = compactionSha(input);
  const priced = (r: CompactResult): CompactResult => ({
    ...r,
    costUsd: input.demo ? 0 : costOf(r.usage, { requested: input.model }, deps.prices ?? NO_OVERRIDES),
  });
  const done = await writtenCompaction(path, sha, generation);
  if (done) return priced(done);

  const history = await readTranscript(transcriptPath(deps.home, input.runId, input.role, input.generation), input.committedLength);
  const endpoint = await resolveEndpoint(input.demo, deps);
  const remote = mayCompactRemotely(endpoint, input.model) ? await compactOnEndpoint(input, history, endpoint) : undefined;
  const { rebuilt, usage, droppedItems } = remote ?? (await summarizeLocally(input, history, endpoint, deps));

  const end: StepEnd = { type: 'step_end', input_sha256: sha, usage, dropped_items: droppedItems };
  await writeTranscript(path, [...rebuilt, end], token);
  failpoint('compaction.afterWrite');
  return priced({ generation, length: rebuilt.length + 1, usage, droppedItems });
}
