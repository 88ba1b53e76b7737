/**
 * Token counts for endpoints that report no usage, so the goal's budget still binds and compaction
 * still triggers. Counted with the o200k_base encoding: exact for current OpenAI models, an
 * estimate for other models.
 */
import type { Usage } from '../../protocol/items';
import type { ParsedReply, WireRequest, WireResult } from './types';

type CountTokens = (text: string) => number;

let counter: Promise<CountTokens> | undefined;

// Loaded on first need: the encoding costs ~35 MB and ~200 ms, which workers whose endpoint reports usage never pay.
function tokenCounter(): Promise<CountTokens> {
  counter ??= import('gpt-tokenizer').then(({ countTokens }) => {
    // Transcripts may contain special-token text such as `<|endoftext|>`; count it as plain text instead of throwing.
    const options = { disallowedSpecial: new Set<string>() };
    return (text: string) => (text ? countTokens(text, options) : 0);
  });
  return counter;
}

function requestText(req: WireRequest): string[] {
  const parts = [req.instructions];
  for (const item of req.items) {
    if (item.type === 'message') parts.push(item.text);
    else if (item.type === 'function_call') parts.push(item.name, item.arguments);
    else if (item.type === 'function_call_output') parts.push(item.output);
    else if (item.type === 'reasoning') parts.push(...item.summary, item.encryptedContent ?? '');
    else parts.push(item.encryptedContent);
  }
  return parts;
}

function replyText(reply: ParsedReply['reply']): string[] {
  const reasoning = reply.output.flatMap((i) => (i.type === 'reasoning' ? i.summary : []));
  return [reply.text ?? '', ...reasoning, ...reply.toolCalls.flatMap((c) => [c.name, c.arguments])];
}

export async function estimateUsage(req: WireRequest, reply: ParsedReply['reply']): Promise<Usage> {
  const count = await tokenCounter();
  const sum = (parts: string[]) => parts.reduce((n, p) => n + count(p), 0);
  return { inputTokens: sum(requestText(req)), cachedInputTokens: 0, outputTokens: sum(replyText(reply)), reasoningTokens: 0, estimated: true };
}

/** The reply with the endpoint's usage, or an estimate when the endpoint reported none (absent, or all zero). */
export async function withUsage(req: WireRequest, { reply, usage: reported }: ParsedReply): Promise<WireResult> {
  const missing = !reported || (reported.inputTokens === 0 && reported.outputTokens === 0);
  return { ...reply, usage: missing ? await estimateUsage(req, reply) : reported };
}
