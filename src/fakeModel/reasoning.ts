/**
 * The scripted endpoint's reasoning items. The "encrypted" content is the summary in base64 behind
 * a marker, so the validator can tell content it issued from anything else.
 */
import type { RecordedRequest, WireReply } from './types';

const PREFIX = 'fake-enc:';

export function encryptReasoning(text: string): string {
  return PREFIX + Buffer.from(text, 'utf8').toString('base64');
}

export function isIssuedEncryptedContent(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** Whether the request asked for `reasoning.encrypted_content` (Responses `include`). */
export function wantsEncryptedReasoning(rec: RecordedRequest): boolean {
  return Array.isArray(rec.body?.include) && rec.body.include.includes('reasoning.encrypted_content');
}

export function scriptedReasoning(rec: RecordedRequest, texts: string[]): WireReply['reasoning'] {
  const encrypted = wantsEncryptedReasoning(rec);
  return texts.map((summary, i) => ({ id: `rs_${rec.seq}_${i}`, summary, encryptedContent: encrypted ? encryptReasoning(summary) : null }));
}
