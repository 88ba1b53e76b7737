/**
 * Rendering a scripted reply as an OpenAI Responses API response object, or as
 * the server-sent-event stream the Responses API emits for `stream: true`.
 *
 * Shapes follow openai v6's `resources/responses/responses.d.ts`. The SDK
 * computes `response.output_text` itself (ResponsesParser.addOutputText), so it
 * is not put on the wire, just as the real API does not.
 */
import type { SseFrame, WireReply } from './types';

/** Splits text into a handful of pieces (at most ~12) for streaming deltas. */
export function splitIntoChunks(text: string, maxPieces = 12, minPiece = 8): string[] {
  if (text.length === 0) return [];
  const size = Math.max(minPiece, Math.ceil(text.length / maxPieces));
  const out: string[] = [];
  // Split on code points so surrogate pairs are never cut.
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export function responseId(reply: WireReply): string {
  return `resp_${reply.seq}`;
}

function messageItemId(reply: WireReply): string {
  return `msg_${reply.seq}`;
}

function functionCallItemId(reply: WireReply, i: number): string {
  return `fc_${reply.seq}_${i}`;
}

function usageObject(reply: WireReply) {
  const u = reply.usage;
  if (!u) return null;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

function outputTextPart(text: string) {
  return { type: 'output_text', text, annotations: [] as unknown[], logprobs: [] as unknown[] };
}

function messageItem(reply: WireReply, text: string, status: 'in_progress' | 'completed' | 'incomplete') {
  return {
    type: 'message',
    id: messageItemId(reply),
    status,
    role: 'assistant',
    content: status === 'in_progress' ? [] : [outputTextPart(text)],
  };
}

function functionCallItem(reply: WireReply, i: number, status: 'in_progress' | 'completed') {
  const c = reply.calls[i]!;
  return {
    type: 'function_call',
    id: functionCallItemId(reply, i),
    call_id: c.callId,
    name: c.name,
    arguments: status === 'completed' ? c.arguments : '',
    status,
  };
}

/** A reasoning output item; its summary and encrypted content appear once it is done. */
function reasoningItem(reply: WireReply, i: number, done: boolean) {
  const r = reply.reasoning[i]!;
  return {
    type: 'reasoning',
    id: r.id,
    summary: done ? [{ type: 'summary_text', text: r.summary }] : [],
    ...(r.encryptedContent !== null ? { encrypted_content: done ? r.encryptedContent : null } : {}),
  };
}

/** The finished output items: reasoning first, then the message (when there is text), then function calls. */
function outputItems(reply: WireReply): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = reply.reasoning.map((_r, i) => reasoningItem(reply, i, true));
  if (reply.text !== undefined) items.push(messageItem(reply, reply.text, reply.incomplete ? 'incomplete' : 'completed'));
  reply.calls.forEach((_c, i) => {
    items.push(functionCallItem(reply, i, 'completed'));
  });
  return items;
}

function responseEnvelope(
  reply: WireReply,
  body: any,
  status: 'in_progress' | 'completed' | 'incomplete',
  output: Array<Record<string, unknown>>,
): Record<string, unknown> {
  const b = body && typeof body === 'object' ? body : {};
  return {
    id: responseId(reply),
    object: 'response',
    created_at: reply.createdAt,
    status,
    background: false,
    completed_at: status === 'completed' ? Math.max(reply.createdAt, Math.floor(Date.now() / 1000)) : null,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: reply.incomplete } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    max_tool_calls: b.max_tool_calls ?? null,
    model: reply.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    prompt_cache_key: b.prompt_cache_key ?? null,
    reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
    safety_identifier: b.safety_identifier ?? null,
    service_tier: 'default',
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: b.tool_choice ?? 'auto',
    tools: Array.isArray(b.tools) ? b.tools : [],
    top_logprobs: b.top_logprobs ?? 0,
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? 'disabled',
    usage: status === 'in_progress' ? null : usageObject(reply),
    user: b.user ?? null,
    metadata: b.metadata ?? {},
  };
}

/** Non-streaming Responses API body. */
export function renderResponse(reply: WireReply, body: any): Record<string, unknown> {
  return responseEnvelope(reply, body, reply.incomplete ? 'incomplete' : 'completed', outputItems(reply));
}

export function sseEvent(type: string, data: unknown): SseFrame {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Streaming Responses API events. `frames` are the events up to (excluding) the
 * terminal `response.completed`, which is in `tail` (so a truncated stream can
 * send a prefix of `frames` and omit `tail`).
 */
export function renderResponseStream(reply: WireReply, body: any): { frames: SseFrame[]; tail: SseFrame[] } {
  let seqNo = 0;
  const frames: SseFrame[] = [];
  const emit = (type: string, fields: Record<string, unknown>): SseFrame => {
    const frame = sseEvent(type, { type, sequence_number: seqNo++, ...fields });
    frames.push(frame);
    return frame;
  };

  emit('response.created', { response: responseEnvelope(reply, body, 'in_progress', []) });
  emit('response.in_progress', { response: responseEnvelope(reply, body, 'in_progress', []) });

  let outputIndex = 0;
  reply.reasoning.forEach((r, i) => {
    const idx = outputIndex++;
    const at = { item_id: r.id, output_index: idx, summary_index: 0 };
    emit('response.output_item.added', { output_index: idx, item: reasoningItem(reply, i, false) });
    emit('response.reasoning_summary_part.added', { ...at, part: { type: 'summary_text', text: '' } });
    for (const delta of splitIntoChunks(r.summary)) emit('response.reasoning_summary_text.delta', { ...at, delta });
    emit('response.reasoning_summary_text.done', { ...at, text: r.summary });
    emit('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: r.summary } });
    emit('response.output_item.done', { output_index: idx, item: reasoningItem(reply, i, true) });
  });
  if (reply.text !== undefined) {
    const text = reply.text;
    const itemId = messageItemId(reply);
    const idx = outputIndex++;
    emit('response.output_item.added', { output_index: idx, item: messageItem(reply, text, 'in_progress') });
    emit('response.content_part.added', {
      item_id: itemId,
      output_index: idx,
      content_index: 0,
      part: outputTextPart(''),
    });
    for (const delta of splitIntoChunks(text)) {
      emit('response.output_text.delta', {
        item_id: itemId,
        output_index: idx,
        content_index: 0,
        delta,
        logprobs: [],
      });
    }
    emit('response.output_text.done', { item_id: itemId, output_index: idx, content_index: 0, text, logprobs: [] });
    emit('response.content_part.done', {
      item_id: itemId,
      output_index: idx,
      content_index: 0,
      part: outputTextPart(text),
    });
    emit('response.output_item.done', { output_index: idx, item: messageItem(reply, text, reply.incomplete ? 'incomplete' : 'completed') });
  }

  reply.calls.forEach((call, i) => {
    const itemId = functionCallItemId(reply, i);
    const idx = outputIndex++;
    emit('response.output_item.added', { output_index: idx, item: functionCallItem(reply, i, 'in_progress') });
    for (const delta of splitIntoChunks(call.arguments)) {
      emit('response.function_call_arguments.delta', { item_id: itemId, output_index: idx, delta });
    }
    // The call's name is on its output item only: the `openai` package (7.x) declares no `name` on this event.
    emit('response.function_call_arguments.done', { item_id: itemId, output_index: idx, arguments: call.arguments });
    emit('response.output_item.done', { output_index: idx, item: functionCallItem(reply, i, 'completed') });
  });

  // A reply cut short ends with response.incomplete instead of response.completed.
  const terminal = reply.incomplete ? 'response.incomplete' : 'response.completed';
  const completed = sseEvent(terminal, { type: terminal, sequence_number: seqNo++, response: renderResponse(reply, body) });
  return { frames, tail: [completed] };
}
