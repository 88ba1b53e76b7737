/** Request checks the fake server makes before asking the responder, answered like the real APIs do (HTTP 400). */
import type { Rejection } from './rejection';
import type { RecordedRequest, Refusable } from './types';
import { validateChat } from './validateChat';
import { validateResponses } from './validateResponses';

export type { Rejection } from './rejection';

export function validateRequest(rec: RecordedRequest, chatUnsupportedParams: readonly string[] = [], refuse: readonly Refusable[] = []): Rejection | null {
  const body = rec.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { message: 'The request body must be a JSON object. (fake model server)', param: null, code: null };
  }
  if (typeof body.model !== 'string') {
    return { message: 'You must provide a model parameter. (fake model server)', param: 'model', code: 'missing_required_parameter' };
  }
  if (rec.wire !== 'chat') return validateResponses(body, refuse);
  if (!Array.isArray(body.messages)) {
    return { message: "'messages' must be an array. (fake model server)", param: 'messages', code: 'invalid_type' };
  }
  const unknown = chatUnsupportedParams.find((field) => field in body);
  if (unknown !== undefined) {
    return { message: `Unrecognized request argument supplied: ${unknown}`, param: unknown, code: 'unrecognized_argument' };
  }
  return validateChat(body, refuse);
}
