/** The Responses API wire: stateless (store: false, full history each time). */
import type OpenAI from 'openai';
import type {
  ResponseCreateParamsBase,
  ResponseInputItem,
  ResponseStreamEvent,
  Response as OpenAIResponse,
} from 'openai/resources/responses/responses';
import { ModelWireError } from './errors';
import { withUsage } from './estimate';
import type { CallOptions, ParsedReply, WireRequest, WireResult } from './types';

export function toResponsesInput(req: WireRequest): ResponseInputItem[] {
  return req.items.map((item): ResponseInputItem => {
    switch (item.type) {
      case 'message':
        return { role: item.role, content: item.text };
      case 'function_call':
        return { type: 'function_call', call_id: item.callId, name: item.name, arguments: item.arguments };
      case 'function_call_output':
        return { type: 'function_call_output', call_id: item.callId, output: item.output };
    }
  });
}

export function responsesParams(req: WireRequest): ResponseCreateParamsBase {
  return {
    model: req.model,
    instructions: req.instructions,
    input: toResponsesInput(req),
    store: false,
    prompt_cache_key: req.promptCacheKey,
    ...(req.tools.length
      ? {
          tools: req.tools.map((t) => ({ type: 'function' as const, name: t.name, description: t.description, parameters: t.parameters, strict: false })),
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
  const texts: string[] = [];
  const toolCalls: WireResult['toolCalls'] = [];
  for (const item of response.output ?? []) {
    if (item.type === 'message') {
      for (const part of item.content) if (part.type === 'output_text') texts.push(part.text);
    } else if (item.type === 'function_call') {
      toolCalls.push({ callId: item.call_id, name: item.name, arguments: item.arguments });
    }
  }
  const u = response.usage;
  const usage = u
    ? {
        inputTokens: u.input_tokens ?? 0,
        cachedInputTokens: u.input_tokens_details?.cached_tokens ?? 0,
        outputTokens: u.output_tokens ?? 0,
        reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
      }
    : null;
  return { reply: { text: texts.length ? texts.join('') : null, toolCalls }, usage };
}

async function readResponseStream(stream: AsyncIterable<ResponseStreamEvent>, onData: () => void): Promise<OpenAIResponse> {
  for await (const event of stream) {
    onData();
    if (event.type === 'response.completed' || event.type === 'response.incomplete') return event.response;
    if (event.type === 'response.failed') {
      throw new ModelWireError(`the model response failed: ${event.response.error?.message ?? 'unknown error'}`, true);
    }
    if (event.type === 'error') throw new ModelWireError(`the model stream reported an error: ${event.message}`, true);
  }
  throw new ModelWireError('the model stream ended before the response completed (truncated stream)', true);
}

export async function callResponses(client: OpenAI, req: WireRequest, opts: CallOptions): Promise<WireResult> {
  const params = responsesParams(req);
  const requestOptions = { headers: opts.headers, signal: opts.signal };
  let response: OpenAIResponse;
  if (req.stream) {
    response = await readResponseStream(await client.responses.create({ ...params, stream: true }, requestOptions), opts.onData);
  } else {
    response = await client.responses.create({ ...params, stream: false }, requestOptions);
    opts.onData();
  }
  return withUsage(req, parseResponse(response));
}
