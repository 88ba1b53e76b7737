/** One stateless request to the model endpoint, over either wire API, with heartbeats and cancellation. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { HEARTBEAT_EVERY_MS } from '../../protocol/heartbeat';
import { LiveText } from '../live';
import { callChat } from './chat';
import { classifyModelError, MODEL_NOT_CONFIGURED } from './errors';
import { callResponses } from './responses';
import type { WireRequest, WireResult } from './types';

export interface ModelEndpoint {
  baseURL: string | undefined;
  apiKey: string | undefined;
  wireApi: 'responses' | 'chat';
  stream: boolean;
}

const clients = new Map<string, OpenAI>();

/** One `openai` client per endpoint and key, shared by turns and remote compaction. */
export function clientFor(endpoint: ModelEndpoint): OpenAI {
  const key = `${endpoint.baseURL ?? ''}|${endpoint.apiKey ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    // Temporal owns retries (bounded, classified, visible in history); the SDK must not retry on its own.
    client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey ?? 'unused', maxRetries: 0, timeout: 10 * 60_000 });
    clients.set(key, client);
  }
  return client;
}

export interface RequestTags {
  runId: string;
  role: string;
  purpose: 'turn' | 'compaction';
}

function notConfigured(runId: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    'no model endpoint is configured on the worker: set OPENAI_API_KEY (for the OpenAI API) or OPENAI_BASE_URL ' +
      `(for an OpenAI-compatible endpoint) in the worker's environment and restart it. The run is paused until then; ` +
      `resume it with \`infty resume ${runId}\`.`,
    MODEL_NOT_CONFIGURED,
  );
}

/**
 * One stateless request; heartbeats while data arrives and aborts when the activity is cancelled.
 * A turn's heartbeats carry the tail of the streamed text as their details (the live view,
 * src/protocol/live.ts); a reply that is not streamed heartbeats without details.
 */
export async function callModel(endpoint: ModelEndpoint, request: WireRequest, tags: RequestTags): Promise<WireResult> {
  if (!endpoint.apiKey && !endpoint.baseURL) throw notConfigured(tags.runId);
  const ctx = Context.current();
  const live = tags.purpose === 'turn' ? new LiveText({ activity: 'modelStep', role: tags.role, attempt: ctx.info.attempt }) : undefined;
  const heartbeat = () => ctx.heartbeat(live?.detail());
  const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
  const where = endpoint.baseURL ?? 'the OpenAI API';
  try {
    const client = clientFor(endpoint);
    const opts = {
      headers: { 'x-infty-run-id': tags.runId, 'x-infty-role': tags.role, 'x-infty-purpose': tags.purpose },
      signal: ctx.cancellationSignal,
      onData: heartbeat,
      ...(live ? { onText: (delta: string) => live.text(delta), onCall: (name: string) => live.mark(`call ${name}`) } : {}),
    };
    return endpoint.wireApi === 'chat' ? await callChat(client, request, opts) : await callResponses(client, request, opts);
  } catch (err) {
    if (ctx.cancellationSignal.aborted) throw err;
    throw classifyModelError(err, where);
  } finally {
    clearInterval(timer);
  }
}
