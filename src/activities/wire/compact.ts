/**
 * Remote compaction (docs/behaviour.md §6.5): `POST /responses/compact` on a Responses endpoint that
 * has it. The endpoint summarizes the history itself and answers the user messages it kept followed
 * by one opaque `compaction` item; the role's next request starts from those. An endpoint without it
 * (404/405/501) is remembered per base URL for the life of the worker process (a 400 saying compaction
 * is unsupported, per base URL and model), and compaction falls back to the local summarization prompt.
 */
import { Context } from '@temporalio/activity';
import OpenAI from 'openai';
import type { CompactedResponse, ResponseInputItem } from 'openai/resources/responses/responses';
import { HEARTBEAT_EVERY_MS } from '../../protocol/heartbeat';
import type { TranscriptItem, Usage } from '../../protocol/items';
import { clientFor, type ModelEndpoint, type RequestTags } from './call';
import { classifyModelError } from './errors';
import { estimateUsage } from './estimate';
import { toResponsesInput } from './responses';
import type { WireRequest } from './types';

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * What this worker process learned: base URLs without `/responses/compact` (404/405/501), and
 * `<base URL> <model>` pairs the endpoint said it cannot compact (a 400 "not supported").
 */
const unsupported = new Set<string>();

function endpointKey(endpoint: ModelEndpoint): string {
  return (endpoint.baseURL ?? OPENAI_BASE_URL).replace(/\/+$/, '');
}

/** Whether compaction should try the endpoint's `/responses/compact`: Responses endpoints not known to lack it (for this model). */
export function mayCompactRemotely(endpoint: ModelEndpoint, model: string): boolean {
  if (endpoint.wireApi !== 'responses') return false;
  if (!endpoint.apiKey && !endpoint.baseURL) return false; // not configured: the local path reports it
  return !unsupported.has(endpointKey(endpoint)) && !unsupported.has(`${endpointKey(endpoint)} ${model}`);
}

/** For tests: forget what was learned about endpoints. */
export function forgetRemoteCompactionSupport(): void {
  unsupported.clear();
}

const UNSUPPORTED_MESSAGE =
  /not supported|unsupported|does not support|not implemented|unknown (url|endpoint|path|route)|invalid url|unrecognized request url|no route|not found/i;
const CONTEXT_LENGTH = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long/i;

/**
 * An answer meaning "no remote compaction here" (as opposed to a failure of the request): 'endpoint'
 * when the endpoint has no such route (404/405/501), 'model' when it says it cannot do it (400/422
 * "not supported", which may be about the model), else undefined.
 */
export function compactUnsupported(err: unknown): 'endpoint' | 'model' | undefined {
  if (!(err instanceof OpenAI.APIError) || typeof err.status !== 'number') return undefined;
  const code = (err as { code?: string | null }).code ?? '';
  if (code === 'model_not_found') return undefined; // a wrong model fails the local request the same way
  if (err.status === 404 || err.status === 405 || err.status === 501) return 'endpoint';
  if (err.status !== 400 && err.status !== 422) return undefined;
  if (code === 'context_length_exceeded' || CONTEXT_LENGTH.test(err.message)) return undefined;
  return UNSUPPORTED_MESSAGE.test(`${err.message} ${JSON.stringify(err.error ?? '')}`) ? 'model' : undefined;
}

export interface RemoteCompaction {
  /** The returned history: the user messages the endpoint kept, then the compaction item(s), in its order. */
  items: TranscriptItem[];
  usage: Usage;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/** The returned output as transcript items: user messages and compaction items; anything else is dropped. */
export function compactedItems(output: CompactedResponse['output']): TranscriptItem[] {
  const items: TranscriptItem[] = [];
  for (const item of output ?? []) {
    const raw = item as { type?: string; role?: string; content?: unknown; encrypted_content?: unknown };
    if (raw.type === 'compaction' && typeof raw.encrypted_content === 'string') {
      items.push({ type: 'compaction', encryptedContent: raw.encrypted_content });
    } else if ((raw.type === 'message' || raw.type === undefined) && raw.role === 'user') {
      items.push({ type: 'message', role: 'user', text: textOf(raw.content) });
    }
  }
  return items;
}

function reportedUsage(u: CompactedResponse['usage'] | undefined): Usage | null {
  if (!u || (!u.input_tokens && !u.output_tokens)) return null;
  return {
    inputTokens: u.input_tokens ?? 0,
    cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * Compacts `request`'s history (its instructions and items) on the endpoint. Returns undefined when the
 * endpoint has no compaction endpoint (remembered); throws the classified failure for any other error
 * (context length included, so the caller can drop the oldest items and retry).
 */
export async function compactRemotely(endpoint: ModelEndpoint, request: WireRequest, tags: RequestTags): Promise<RemoteCompaction | undefined> {
  const ctx = Context.current();
  const heartbeat = () => ctx.heartbeat();
  const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
  const where = endpoint.baseURL ?? 'the OpenAI API';
  try {
    const input: ResponseInputItem[] = toResponsesInput(request);
    const response = await clientFor(endpoint).responses.compact(
      { model: request.model, instructions: request.instructions, input, prompt_cache_key: request.promptCacheKey },
      {
        headers: { 'x-infty-run-id': tags.runId, 'x-infty-role': tags.role, 'x-infty-purpose': tags.purpose },
        signal: ctx.cancellationSignal,
      },
    );
    heartbeat();
    const items = compactedItems(response.output);
    // A 200 without a compaction item is not the compaction endpoint (a proxy's catch-all, say): use the local one.
    if (!items.some((i) => i.type === 'compaction')) {
      unsupported.add(endpointKey(endpoint));
      return undefined;
    }
    let usage = reportedUsage(response.usage);
    if (!usage) {
      // No usage reported: the input counted like any request; the opaque output roughly (base64 of ciphertext, ~6 chars a token).
      const noReply: Parameters<typeof estimateUsage>[1] = { text: null, toolCalls: [], output: [] };
      const estimated = await estimateUsage(request, noReply);
      const opaque = items.reduce((n, i) => n + (i.type === 'compaction' ? i.encryptedContent.length : 0), 0);
      usage = { ...estimated, outputTokens: Math.ceil(opaque / 6) };
    }
    return { items, usage };
  } catch (err) {
    if (ctx.cancellationSignal.aborted) throw err;
    const refused = compactUnsupported(err);
    if (refused) {
      unsupported.add(refused === 'endpoint' ? endpointKey(endpoint) : `${endpointKey(endpoint)} ${request.model}`);
      return undefined;
    }
    throw classifyModelError(err, where);
  } finally {
    clearInterval(timer);
  }
}
