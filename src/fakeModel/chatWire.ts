/**
 * Rendering a scripted reply as an OpenAI Chat Completions response, or as the
 * `chat.completion.chunk` SSE stream the API emits for `stream: true`.
 */
import { splitIntoChunks } from './responsesWire';
import type { SseFrame, WireReply } from './types';

export function chatCompletionId(reply: WireReply): string {
  return `chatcmpl-${reply.seq}`;
}

function usageObject(reply: WireReply) {
  const u = reply.usage;
  if (!u) return null;
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

type FinishReason = 'tool_calls' | 'stop' | 'length' | 'content_filter';

function finishReason(reply: WireReply): FinishReason {
  if (reply.incomplete) return reply.incomplete === 'max_output_tokens' ? 'length' : 'content_filter';
  return reply.calls.length > 0 ? 'tool_calls' : 'stop';
}

/** The reply's reasoning as the vLLM/DeepSeek `reasoning_content` text (null: none). */
function reasoningText(reply: WireReply): string | null {
  return reply.reasoning.length ? reply.reasoning.map((r) => r.summary).join('\n') : null;
}

/** Non-streaming Chat Completions body. */
export function renderChatCompletion(reply: WireReply, _body: any): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: reply.text ?? null,
    refusal: null,
    annotations: [],
  };
  const reasoning = reasoningText(reply);
  if (reasoning !== null) message.reasoning_content = reasoning;
  if (reply.calls.length > 0) {
    message.tool_calls = reply.calls.map((c) => ({
      id: c.callId,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  return {
    id: chatCompletionId(reply),
    object: 'chat.completion',
    created: reply.createdAt,
    model: reply.model,
    choices: [{ index: 0, message, finish_reason: finishReason(reply), logprobs: null }],
    ...(reply.usage ? { usage: usageObject(reply) } : {}),
    service_tier: 'default',
    system_fingerprint: null,
  };
}

/** One `chat.completion.chunk` object carrying `choices` (and `extra`, e.g. usage, after them). */
function chunkObject(reply: WireReply, choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: chatCompletionId(reply),
    object: 'chat.completion.chunk',
    created: reply.createdAt,
    model: reply.model,
    service_tier: 'default',
    system_fingerprint: null,
    choices,
    ...extra,
  };
}

export function sseData(data: unknown): SseFrame {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const SSE_DONE: SseFrame = 'data: [DONE]\n\n';

/**
 * Streaming Chat Completions chunks. `frames` are the content chunks; `tail`
 * holds the finish_reason chunk, the usage chunk (when
 * `stream_options.include_usage` and the reply has usage) and `data: [DONE]`.
 */
export function renderChatStream(reply: WireReply, body: any): { frames: SseFrame[]; tail: SseFrame[] } {
  const includeUsage = Boolean(body?.stream_options?.include_usage) && reply.usage !== null;
  // With include_usage every chunk carries `usage: null`; the usage itself comes in a last chunk without choices.
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null = null) =>
    sseData(chunkObject(reply, [{ index: 0, delta, logprobs: null, finish_reason: finish }], includeUsage ? { usage: null } : {}));

  const frames: SseFrame[] = [];
  const hasText = reply.text !== undefined;
  frames.push(chunk({ role: 'assistant', content: hasText ? '' : null, refusal: null }));
  for (const piece of splitIntoChunks(reasoningText(reply) ?? '')) frames.push(chunk({ reasoning_content: piece }));
  if (hasText) {
    for (const piece of splitIntoChunks(reply.text!)) frames.push(chunk({ content: piece }));
  }
  reply.calls.forEach((call, index) => {
    frames.push(
      chunk({
        tool_calls: [{ index, id: call.callId, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of splitIntoChunks(call.arguments)) {
      frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });

  const tail: SseFrame[] = [chunk({}, finishReason(reply))];
  if (includeUsage) tail.push(sseData(chunkObject(reply, [], { usage: usageObject(reply) })));
  tail.push(SSE_DONE);
  return { frames, tail };
}
