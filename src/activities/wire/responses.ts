/** The Responses API wire: stateless (store: false, full history each time). */
import type OpenAI from 'openai';
import type { Response as OpenAIResponse, ResponseCreateParamsBase, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { ModelWireError } from './errors';
import { withUsage } from './estimate';
import { completeCallsOnly } from './incomplete';
import { withFeature } from './refusals';
import type { CallOptions, ParsedReply, WireOutputItem, WireRequest, WireResult } from './types';

/** What the endpoint accepts, as learned per endpoint (./refusals). */
export interface ResponsesFeatures {
  /** `include: ["reasoning.encrypted_content"]`. */
  include: boolean;
  /** The `developer` role; without it developer messages go as `user`. */
  developer: boolean;
}

const ALL: ResponsesFeatures = { include: true, developer: true };

/**
 * The input items. Reasoning goes back only with its encrypted content (with `store: false` the
 * server cannot look it up by id); a compaction item goes back as is.
 */
export function toResponsesInput(req: WireRequest, features: ResponsesFeatures = ALL): ResponseInputItem[] {
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every WireItem type (tsc checks that each path returns)
  return req.items.flatMap((item): ResponseInputItem[] => {
    switch (item.type) {
      case 'message':
        return [{ role: item.role === 'developer' && !features.developer ? 'user' : item.role, content: item.text }];
      case 'function_call':
        return [{ type: 'function_call', call_id: item.callId, name: item.name, arguments: item.arguments }];
      case 'function_call_output':
        return [{ type: 'function_call_output', call_id: item.callId, output: item.output }];
      case 'reasoning':
        if (!item.encryptedContent || !item.id) return [];
        return [
          {
            type: 'reasoning',
            id: item.id,
            encrypted_content: item.encryptedContent,
            summary: item.summary.map((text) => ({ type: 'summary_text' as const, text })),
          },
        ];
      case 'compaction':
        return [{ type: 'compaction', encrypted_content: item.encryptedContent }];
    }
  });
}

export function responsesParams(req: WireRequest, features: ResponsesFeatures = ALL): ResponseCreateParamsBase {
  return {
    model: req.model,
    instructions: req.instructions,
    input: toResponsesInput(req, features),
    store: false,
    ...(features.include ? { include: ['reasoning.encrypted_content' as const] } : {}),
    prompt_cache_key: req.promptCacheKey,
    ...(req.reasoningEffort ? { reasoning: { effort: req.reasoningEffort } } : {}),
    ...(req.tools.length
      ? {
          tools: req.tools.map((t) => ({
            type: 'function' as const,
            name: t.name,
            description: t.description,
            parameters: t.parameters,
            strict: t.strict === true,
          })),
          parallel_tool_calls: true,
          ...(req.toolChoice ? { tool_choice: req.toolChoice } : {}),
        }
      : {}),
    ...(req.outputSchema
      ? { text: { format: { type: 'json_schema' as const, name: req.outputSchema.name, schema: req.outputSchema.schema, strict: true } } }
      : {}),
  };
}

export function parseResponse(response: OpenAIResponse): ParsedReply {
  let output: WireOutputItem[] = [];
  for (const item of response.output ?? []) {
    if (item.type === 'reasoning') {
      output.push({
        type: 'reasoning',
        ...(item.id ? { id: item.id } : {}),
        ...(item.encrypted_content ? { encryptedContent: item.encrypted_content } : {}),
        summary: (item.summary ?? []).map((s) => s.text),
      });
    } else if (item.type === 'message') {
      const text = item.content.flatMap((part) => (part.type === 'output_text' ? [part.text] : [])).join('');
      if (text) output.push({ type: 'message', role: 'assistant', text });
    } else if (item.type === 'function_call') {
      output.push({ type: 'function_call', callId: item.call_id, name: item.name, arguments: item.arguments });
    }
  }
  const incomplete = response.status === 'incomplete' ? { reason: response.incomplete_details?.reason ?? 'unknown' } : undefined;
  if (incomplete) output = completeCallsOnly(output);
  const texts = output.flatMap((i) => (i.type === 'message' ? [i.text] : []));
  const toolCalls = output.flatMap((i) => (i.type === 'function_call' ? [{ callId: i.callId, name: i.name, arguments: i.arguments }] : []));
  const u = response.usage;
  const usage = u
    ? {
        inputTokens: u.input_tokens ?? 0,
        cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
        outputTokens: u.output_tokens ?? 0,
        reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
      }
    : null;
  const model = typeof response.model === 'string' && response.model ? { model: response.model } : {};
  return { reply: { text: texts.length ? texts.join('') : null, toolCalls, output, ...(incomplete ? { incomplete } : {}), ...model }, usage };
}

async function readResponseStream(
  stream: AsyncIterable<ResponseStreamEvent>,
  opts: Pick<CallOptions, 'onData' | 'onText' | 'onCall'>,
): Promise<OpenAIResponse> {
  const { onData, onText, onCall } = opts;
  for await (const event of stream) {
    onData();
    if (event.type === 'response.output_text.delta' || event.type === 'response.function_call_arguments.delta') onText?.(event.delta);
    else if (event.type === 'response.output_item.added' && event.item.type === 'function_call') onCall?.(event.item.name);
    if (event.type === 'response.completed' || event.type === 'response.incomplete') return event.response;
    if (event.type === 'response.failed') {
      throw new ModelWireError(`the model response failed: ${event.response.error?.message ?? 'unknown error'}`, true);
    }
    // An `error` event without the SSE event name (the SDK throws a named one itself: ./errors).
    if (event.type === 'error') throw new ModelWireError(`the model stream reported an error: ${event.message}`, true);
  }
  throw new ModelWireError('the model stream ended before the response completed (truncated stream)', true);
}

export async function callResponses(client: OpenAI, req: WireRequest, opts: CallOptions): Promise<WireResult> {
  const requestOptions = { headers: opts.headers, signal: opts.signal };
  const send = async (features: ResponsesFeatures): Promise<OpenAIResponse> => {
    const params = responsesParams(req, features);
    if (req.stream) return readResponseStream(await client.responses.create({ ...params, stream: true }, requestOptions), opts);
    const response = await client.responses.create({ ...params, stream: false }, requestOptions);
    opts.onData();
    return response;
  };
  const hasDeveloper = req.items.some((i) => i.type === 'message' && i.role === 'developer');
  // Per model too: OpenAI refuses encrypted reasoning for its non-reasoning models only.
  const response = await withFeature(`${client.baseURL} ${req.model}`, 'include_encrypted_reasoning', true, (include) =>
    withFeature(client.baseURL, 'developer_role', hasDeveloper, (developer) => send({ include, developer })),
  );
  return withUsage(req, parseResponse(response));
}
