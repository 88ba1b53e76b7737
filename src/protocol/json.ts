/** JSON replies of the models (docs/behaviour.md §2): find the JSON, parse it, validate it against a zod contract. */
import type { z } from 'zod';

/** One fenced block: ```json, ```JSON or bare ```, with or without a newline after the opening fence. */
const FENCE = /^```(?:json|JSON)?[ \t]*(?:\r?\n)?([\s\S]*?)\s*```$/;

/** The JSON text of a reply: the whole trimmed text, or the inside of one fenced block that is the whole text. */
export function extractJsonText(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) return trimmed;
  const inside = FENCE.exec(trimmed)?.[1]?.trim();
  // One fenced block holding a JSON object; several blocks, or a block of something else, are prose.
  if (inside === undefined || inside.includes('```') || !inside.startsWith('{')) return undefined;
  return inside;
}

export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export type JsonParse<T> =
  | { ok: true; value: T }
  /** `error` is the JSON syntax error. */
  | { ok: false; reason: 'invalid_json'; error: string }
  /** `error` lists the contract's complaints about `value`. */
  | { ok: false; reason: 'invalid_value'; error: string; value: unknown };

export type JsonReply<T> = JsonParse<T> | { ok: false; reason: 'no_json'; error: string };

/** Parses JSON text and validates it against `schema`. */
export function parseJson<S extends z.ZodType>(json: string, schema: S): JsonParse<z.output<S>> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: 'invalid_json', error: (err as Error).message };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: 'invalid_value', error: formatZodError(parsed.error), value };
}

/** A model's reply as a JSON object (the whole text, or one fenced block) matching `schema`; errors read as feedback to the model. */
export function parseJsonReply<S extends z.ZodType>(text: string | null | undefined, schema: S): JsonReply<z.output<S>> {
  const json = text ? extractJsonText(text) : undefined;
  if (json === undefined) return { ok: false, reason: 'no_json', error: 'reply is not a JSON object' };
  const parsed = parseJson(json, schema);
  if (!parsed.ok && parsed.reason === 'invalid_json') return { ...parsed, error: `reply is not valid JSON (${parsed.error})` };
  return parsed;
}
