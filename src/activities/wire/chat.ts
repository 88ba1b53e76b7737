/** The Chat Completions wire, for OpenAI-compatible servers (vLLM, Ollama, LM Studio, llama.cpp, gateways). */
import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions/completions';
import type { Usage } from '../../protocol/items';
import { ModelWireError } from './errors';
import { withUsage } from './estimate';
import { withPromptCacheKeyFallback } from './promptCacheKey';
import type { CallOptions, ParsedReply, WireRequest, WireResult } from './types';

type AssistantParam = Extract<ChatCompletionMessageParam, { role: 'assistant' }>;

export function toChatMessages(req: WireRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  for (const item of req.items) {
    if (item.type === 'message') {
      messages.push({ role: item.role, content: item.text });
    } else if (item.type === 'function_call') {
      const last = messages[messages.length - 1];
      const call = { id: item.callId, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
      if (last?.role === 'assistant') {
        const a = last as AssistantParam;
        a.tool_calls = [...(a.tool_calls ?? []), call];
      } else {
        messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      }
    } else {
      messages.push({ role: 'tool', tool_call_id: item.callId, content: item.output });
    }
  }
  return messages;
}

export function chatParams(req: WireRequest): ChatCompletionCreateParamsBase {
  return {
    model: req.model,
    messages: toChatMessages(req),
    prompt_cache_key: req.promptCacheKey,
    ...(req.tools.length
      ? {
          tools: req.tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } })),
          ...(req.toolChoice ? { tool_choice: req.toolChoice } : {}),
        }
      : {}),
    ...(req.outputSchema
      ? { response_format: { type: 'json_schema' as const, json_schema: { name: req.outputSchema.name, schema: req.outputSchema.schema, strict: true } } }
      : {}),
  };
}

function usageOf(u: ChatCompletion['usage'] | undefined | null): Usage | null {
  if (!u) return null;
  return {
    inputTokens: u.prompt_tokens ?? 0,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.completion_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function parseChatCompletion(completion: ChatCompletion): ParsedReply {
  const message = completion.choices?.[0]?.message;
  if (!message) throw new ModelWireError('the chat completion has no choices', true);
  const toolCalls = (message.tool_calls ?? [])
    .filter((c): c is Extract<ChatCompletionMessageToolCall, { type: 'function' }> => c.type === 'function')
    .map((c) => ({ callId: c.id, name: c.function.name, arguments: c.function.arguments }));
  return { reply: { text: message.content ?? null, toolCalls }, usage: usageOf(completion.usage) };
}

async function readChatStream(stream: AsyncIterable<ChatCompletionChunk>, onData: () => void): Promise<ParsedReply> {
  let text = '';
  let sawText = false;
  let finished = false;
  let usage: ChatCompletion['usage'] | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    onData();
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      if (delta?.content) {
        text += delta.content;
        sawText = true;
      }
      for (const tc of delta?.tool_calls ?? []) {
        const slot = (calls[tc.index] ??= { id: '', name: '', arguments: '' });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name += tc.function.name;
        if (tc.function?.arguments) slot.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) finished = true;
    }
  }
  if (!finished) throw new ModelWireError('the model stream ended before a finish_reason (truncated stream)', true);
  const reply = {
    text: sawText ? text : null,
    toolCalls: calls.filter(Boolean).map((c) => ({ callId: c.id, name: c.name, arguments: c.arguments })),
  };
  return { reply, usage: usageOf(usage) };
}

export async function callChat(client: OpenAI, req: WireRequest, opts: CallOptions): Promise<WireResult> {
  const params = chatParams(req);
  const requestOptions = { headers: opts.headers, signal: opts.signal };
  if (!req.stream) {
    const completion = await withPromptCacheKeyFallback(client.baseURL, params, (p) =>
      client.chat.completions.create({ ...p, stream: false }, requestOptions),
    );
    opts.onData();
    return withUsage(req, parseChatCompletion(completion));
  }
  const stream = await withPromptCacheKeyFallback(client.baseURL, params, (p) =>
    client.chat.completions.create({ ...p, stream: true, stream_options: { include_usage: true } }, requestOptions),
  );
  return withUsage(req, await readChatStream(stream, opts.onData));
}
