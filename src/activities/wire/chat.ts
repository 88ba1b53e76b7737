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
import { chatOutput, reasoningOf } from './chatReasoning';
import { ModelWireError } from './errors';
import { withUsage } from './estimate';
import { withPromptCacheKeyFallback } from './promptCacheKey';
import { withFeature } from './refusals';
import type { CallOptions, ParsedReply, WireRequest, WireResult } from './types';

type AssistantParam = Extract<ChatCompletionMessageParam, { role: 'assistant' }> & { reasoning_content?: string };

/** What the endpoint accepts, as learned per endpoint (./refusals). */
export interface ChatFeatures {
  /** The `developer` role; without it developer messages go as `user` (a `system` message mid-conversation is refused by some templates). */
  developer: boolean;
  /** `reasoning_content` on assistant messages (vLLM/DeepSeek convention). */
  reasoningContent: boolean;
}

const ALL: ChatFeatures = { developer: true, reasoningContent: true };

/**
 * The messages. Reasoning items go as `reasoning_content` on the assistant message that follows
 * them; compaction items (Responses only) are not sent.
 */
export function toChatMessages(req: WireRequest, features: ChatFeatures = ALL): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  let reasoning: string[] = [];
  const assistant = (a: AssistantParam): AssistantParam => {
    if (features.reasoningContent && reasoning.length) a.reasoning_content = [a.reasoning_content, ...reasoning].filter(Boolean).join('\n');
    reasoning = [];
    return a;
  };
  for (const item of req.items) {
    if (item.type === 'reasoning') {
      reasoning.push(...item.summary);
    } else if (item.type === 'message') {
      if (item.role === 'assistant') messages.push(assistant({ role: 'assistant', content: item.text }));
      else messages.push({ role: item.role === 'developer' && !features.developer ? 'user' : item.role, content: item.text });
    } else if (item.type === 'function_call') {
      const last = messages[messages.length - 1];
      const call = { id: item.callId, type: 'function' as const, function: { name: item.name, arguments: item.arguments } };
      if (last?.role === 'assistant') {
        const a = assistant(last as AssistantParam);
        a.tool_calls = [...(a.tool_calls ?? []), call];
      } else {
        messages.push(assistant({ role: 'assistant', content: null, tool_calls: [call] }));
      }
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.callId, content: item.output });
    }
  }
  return messages;
}

export function chatParams(req: WireRequest, features: ChatFeatures = ALL): ChatCompletionCreateParamsBase {
  return {
    model: req.model,
    messages: toChatMessages(req, features),
    prompt_cache_key: req.promptCacheKey,
    ...(req.reasoningEffort ? { reasoning_effort: req.reasoningEffort } : {}),
    ...(req.tools.length
      ? {
          tools: req.tools.map((t) => ({
            type: 'function' as const,
            function: { name: t.name, description: t.description, parameters: t.parameters, ...(t.strict ? { strict: true } : {}) },
          })),
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

/** The completion's `model`: the model the endpoint says answered. */
function answeredBy(model: unknown): { model?: string } {
  return typeof model === 'string' && model ? { model } : {};
}

export function parseChatCompletion(completion: ChatCompletion): ParsedReply {
  const choice = completion.choices?.[0];
  const message = choice?.message;
  if (!message) throw new ModelWireError('the chat completion has no choices', true);
  const toolCalls = (message.tool_calls ?? [])
    .filter((c): c is Extract<ChatCompletionMessageToolCall, { type: 'function' }> => c.type === 'function')
    .map((c) => ({ callId: c.id, name: c.function.name, arguments: c.function.arguments }));
  return {
    reply: { ...chatOutput(reasoningOf(message), message.content ?? null, toolCalls, choice.finish_reason), ...answeredBy(completion.model) },
    usage: usageOf(completion.usage),
  };
}

async function readChatStream(stream: AsyncIterable<ChatCompletionChunk>, opts: Pick<CallOptions, 'onData' | 'onText' | 'onCall'>): Promise<ParsedReply> {
  const { onData, onText, onCall } = opts;
  let text = '';
  let sawText = false;
  let reasoning = '';
  let finish: string | null = null;
  let usage: ChatCompletion['usage'] | undefined;
  let model: string | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    onData();
    if (chunk.usage) usage = chunk.usage;
    if (typeof chunk.model === 'string' && chunk.model) model = chunk.model;
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      reasoning += reasoningOf(delta) ?? '';
      if (delta?.content) {
        text += delta.content;
        sawText = true;
        onText?.(delta.content);
      }
      for (const tc of delta?.tool_calls ?? []) {
        calls[tc.index] ??= { id: '', name: '', arguments: '' };
        const slot = calls[tc.index];
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) {
          if (slot.name === '') onCall?.(tc.function.name);
          slot.name += tc.function.name;
        }
        if (tc.function?.arguments) {
          slot.arguments += tc.function.arguments;
          onText?.(tc.function.arguments);
        }
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  if (!finish) throw new ModelWireError('the model stream ended before a finish_reason (truncated stream)', true);
  const toolCalls = calls.filter(Boolean).map((c) => ({ callId: c.id, name: c.name, arguments: c.arguments }));
  return { reply: { ...chatOutput(reasoning || null, sawText ? text : null, toolCalls, finish), ...answeredBy(model) }, usage: usageOf(usage) };
}

export async function callChat(client: OpenAI, req: WireRequest, opts: CallOptions): Promise<WireResult> {
  const requestOptions = { headers: opts.headers, signal: opts.signal };
  const hasDeveloper = req.items.some((i) => i.type === 'message' && i.role === 'developer');
  const hasReasoning = req.items.some((i) => i.type === 'reasoning' && i.summary.length > 0);
  const withFeatures = <R>(send: (features: ChatFeatures) => Promise<R>) =>
    withFeature(client.baseURL, 'developer_role', hasDeveloper, (developer) =>
      withFeature(client.baseURL, 'chat_reasoning_content', hasReasoning, (reasoningContent) => send({ developer, reasoningContent })),
    );
  if (!req.stream) {
    const completion = await withFeatures((features) =>
      withPromptCacheKeyFallback(client.baseURL, chatParams(req, features), (p) => client.chat.completions.create({ ...p, stream: false }, requestOptions)),
    );
    opts.onData();
    return withUsage(req, parseChatCompletion(completion));
  }
  const reply = await withFeatures(async (features) => {
    const stream = await withPromptCacheKeyFallback(client.baseURL, chatParams(req, features), (p) =>
      client.chat.completions.create({ ...p, stream: true, stream_options: { include_usage: true } }, requestOptions),
    );
    return readChatStream(stream, opts);
  });
  return withUsage(req, reply);
}
