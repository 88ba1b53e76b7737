/** One stateless request to the model endpoint, over either wire API, with heartbeats and cancellation. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { callChat } from './chat';
import { classifyModelError } from './errors';
import { callResponses } from './responses';
import type { WireRequest, WireResult } from './types';

export interface ModelEndpoint {
  baseURL: string | undefined;
  apiKey: string | undefined;
  wireApi: 'responses' | 'chat';
  stream: boolean;
}

const HEARTBEAT_EVERY_MS = 2_000;
const clients = new Map<string, OpenAI>();

function clientFor(endpoint: ModelEndpoint): OpenAI {
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

/** One stateless request; heartbeats while data arrives and aborts when the activity is cancelled. */
export async function callModel(endpoint: ModelEndpoint, request: WireRequest, tags: RequestTags): Promise<WireResult> {
  const ctx = Context.current();
  const heartbeat = () => ctx.heartbeat();
  const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
  const where = endpoint.baseURL ?? 'the OpenAI API';
  if (!endpoint.apiKey && !endpoint.baseURL) {
    throw ApplicationFailure.nonRetryable(
      'OPENAI_API_KEY is not set on the worker; set it, or point OPENAI_BASE_URL at an OpenAI-compatible endpoint, then resume the run',
      'ModelAuthError',
    );
  }
  try {
    const client = clientFor(endpoint);
    const opts = {
      headers: { 'x-infty-run-id': tags.runId, 'x-infty-role': tags.role, 'x-infty-purpose': tags.purpose },
      signal: ctx.cancellationSignal,
      onData: heartbeat,
    };
    return endpoint.wireApi === 'chat' ? await callChat(client, request, opts) : await callResponses(client, request, opts);
  } catch (err) {
    if (ctx.cancellationSignal.aborted) throw err;
    throw classifyModelError(err, where);
  } finally {
    clearInterval(timer);
  }
}
