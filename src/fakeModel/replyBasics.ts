/** What every route of the scripted model server shares: JSON error bodies and replies, and usage when a script gives none. */
import type { ReplyExchange, Usage } from './types';

export function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

export function sendJson(ex: ReplyExchange, status: number, obj: unknown, extraHeaders: Record<string, string> = {}): void {
  if (ex.gone || ex.res.headersSent) return;
  const text = JSON.stringify(obj);
  ex.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...extraHeaders,
  });
  ex.end(text);
}

function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Default input-token estimate: ceil(len(JSON of input/messages (+ instructions)) / 4). */
export function estimateInputTokens(wire: 'responses' | 'chat', body: any): number {
  const b = body && typeof body === 'object' ? body : {};
  if (wire === 'chat') return estimateTokens(JSON.stringify(b.messages ?? []).length);
  let chars = JSON.stringify(b.input ?? '').length;
  if (b.instructions !== undefined && b.instructions !== null) chars += JSON.stringify(b.instructions).length;
  return estimateTokens(chars);
}

export function resolveUsage(wire: 'responses' | 'chat', body: any, outputChars: number, given: Partial<Usage> | undefined): Usage {
  return {
    inputTokens: given?.inputTokens ?? estimateInputTokens(wire, body),
    cachedInputTokens: given?.cachedInputTokens ?? 0,
    outputTokens: given?.outputTokens ?? Math.max(1, estimateTokens(outputChars)),
    reasoningTokens: given?.reasoningTokens ?? 0,
  };
}
