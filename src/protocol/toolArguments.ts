/**
 * A tool call's arguments as the model sent them (JSON text) read once, the same way everywhere: by
 * the workflow (approvals, summaries) and by the tool activities. Empty text is an empty object,
 * as OpenAI's function calling allows. Pure: the workflow bundle imports it.
 */
export type ParsedArguments =
  | { ok: true; args: Record<string, unknown> }
  /** `invalid_json`: `detail` is the parser's message. */
  | { ok: false; error: 'invalid_json' | 'not_object'; detail: string };

export function parseToolArguments(raw: string): ParsedArguments {
  const text = raw.trim();
  let value: unknown;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch (e) {
    return { ok: false, error: 'invalid_json', detail: (e as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'not_object', detail: '' };
  return { ok: true, args: value as Record<string, unknown> };
}
