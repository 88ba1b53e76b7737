import { z } from 'zod';

/** The Solver's message contract (SPEC §2). */
export const SolverSignalSchema = z
  .object({
    type: z.enum(['direction_request', 'final_delivery']),
    // Missing optional keys read as null: the reference documents {"type","deliverable_path","summary"}.
    prompt: z.string().nullable().default(null),
    deliverable_path: z.string().nullable().default(null),
    summary: z.string().nullable().default(null),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.type === 'direction_request' && !s.prompt?.trim()) {
      ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'direction_request needs a non-blank "prompt"' });
    }
    if (s.type === 'final_delivery' && !s.deliverable_path?.trim()) {
      ctx.addIssue({
        code: 'custom',
        path: ['deliverable_path'],
        message: 'final_delivery needs a non-blank "deliverable_path"',
      });
    }
  });

export type SolverSignal = z.infer<typeof SolverSignalSchema>;

export type SignalParse =
  | { kind: 'signal'; signal: SolverSignal }
  | { kind: 'malformed'; error: string }
  | { kind: 'none' };

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
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * SPEC §2: JSON (raw or one fenced block) whose `type` is a known signal type is a signal;
 * a known type with invalid fields, or text that looks like JSON but does not parse, is malformed;
 * anything else (prose, unknown type) is not a signal.
 */
export function parseSolverSignal(text: string | null | undefined): SignalParse {
  if (!text) return { kind: 'none' };
  const json = extractJsonText(text);
  if (json === undefined) return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { kind: 'malformed', error: `reply is not valid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'malformed', error: 'reply must be one JSON object' };
  }
  const type = (value as Record<string, unknown>).type;
  if (type !== 'direction_request' && type !== 'final_delivery') return { kind: 'none' };
  const parsed = SolverSignalSchema.safeParse(value);
  return parsed.success
    ? { kind: 'signal', signal: parsed.data }
    : { kind: 'malformed', error: formatZodError(parsed.error) };
}
