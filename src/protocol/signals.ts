import { z } from 'zod';
import { parseJsonReply } from './json';

// run.ts and client.ts import formatZodError from here.
export { formatZodError } from './json';

const SIGNAL_TYPES = ['direction_request', 'final_delivery'] as const;

const signalFields = {
  // Missing optional keys read as null: the reference documents {"type","deliverable_path","summary"}.
  prompt: z.string().nullable().default(null),
  deliverable_path: z.string().nullable().default(null),
  summary: z.string().nullable().default(null),
};

function requireSignalFields(s: { type: string; prompt: string | null; deliverable_path: string | null }, ctx: z.RefinementCtx): void {
  if (s.type === 'direction_request' && !s.prompt?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'direction_request needs a non-blank "prompt"' });
  }
  if (s.type === 'final_delivery' && !s.deliverable_path?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['deliverable_path'], message: 'final_delivery needs a non-blank "deliverable_path"' });
  }
}

/** The Solver's message contract (docs/behaviour.md §2). */
export const SolverSignalSchema = z
  .object({ type: z.enum(SIGNAL_TYPES), ...signalFields })
  .strict()
  .superRefine(requireSignalFields);

/** Finalization (docs/behaviour.md §3): the Solver's reply format allows final_delivery only. */
export const SolverFinalSchema = z
  .object({ type: z.enum(['final_delivery']), ...signalFields })
  .strict()
  .superRefine(requireSignalFields);

export type SolverSignal = z.infer<typeof SolverSignalSchema>;

export type SignalParse = { kind: 'signal'; signal: SolverSignal } | { kind: 'malformed'; error: string } | { kind: 'none' };

function hasSignalType(value: unknown): boolean {
  const type = (value as { type?: unknown }).type;
  return (SIGNAL_TYPES as readonly unknown[]).includes(type);
}

/**
 * docs/behaviour.md §2: JSON (raw or one fenced block) whose `type` is a known signal type is a signal;
 * a known type with invalid fields, or text that looks like JSON but does not parse, is malformed;
 * anything else (prose, unknown type) is not a signal.
 */
export function parseSolverSignal(text: string | null | undefined): SignalParse {
  const reply = parseJsonReply(text, SolverSignalSchema);
  if (reply.ok) return { kind: 'signal', signal: reply.value };
  if (reply.reason === 'no_json') return { kind: 'none' };
  if (reply.reason === 'invalid_value' && !hasSignalType(reply.value)) return { kind: 'none' };
  return { kind: 'malformed', error: reply.error };
}
