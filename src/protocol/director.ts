import { z } from 'zod';
import { extractJsonText, formatZodError } from './signals';

export const DirectorReplySchema = z
  .object({ directive: z.string().trim().min(1, 'directive must be non-blank'), rationale: z.string().nullable().optional() })
  .strip();
export type DirectorReply = { directive: string; rationale: string | null };

export function parseDirectorReply(text: string | null): { ok: true; reply: DirectorReply } | { ok: false; error: string } {
  const json = text ? extractJsonText(text) : undefined;
  if (json === undefined) return { ok: false, error: 'reply is not a JSON object' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, error: `reply is not valid JSON (${(err as Error).message})` };
  }
  const parsed = DirectorReplySchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: formatZodError(parsed.error) };
  return { ok: true, reply: { directive: parsed.data.directive, rationale: parsed.data.rationale ?? null } };
}

export function directionRequestMessage(prompt: string, objective: string): string {
  return JSON.stringify({ type: 'direction_request', prompt, objective });
}
