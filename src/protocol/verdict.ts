import { z } from 'zod';
import { extractJsonText, formatZodError } from './signals';

export const VerdictSchema = z.object({
  verdict: z.enum(['pass', 'fail']),
  reasons: z.array(z.string()),
  suggestions: z.array(z.string()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export interface RoleVerdict extends Verdict {
  role: string;
}

export interface VerificationFeedback {
  type: 'verification_feedback';
  overall: 'pass' | 'fail';
  verdicts: RoleVerdict[];
}

export function parseVerdict(text: string | null): { ok: true; verdict: Verdict } | { ok: false; error: string } {
  const json = text ? extractJsonText(text) : undefined;
  if (json === undefined) return { ok: false, error: 'reply is not a JSON object' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return { ok: false, error: `reply is not valid JSON (${(err as Error).message})` };
  }
  const parsed = VerdictSchema.safeParse(value);
  return parsed.success ? { ok: true, verdict: parsed.data } : { ok: false, error: formatZodError(parsed.error) };
}

/** Unanimous: pass only if every verdict passes; no verifiers is a pass. */
export function aggregateVerdicts(verdicts: RoleVerdict[]): VerificationFeedback {
  const overall = verdicts.every((v) => v.verdict === 'pass') ? 'pass' : 'fail';
  return {
    type: 'verification_feedback',
    overall,
    verdicts: verdicts.map(({ role, verdict, reasons, suggestions }) => ({ role, verdict, reasons, suggestions })),
  };
}

export function verificationRequestMessage(claimPath: string, notes: string | null, objective: string): string {
  const msg: Record<string, string> = { type: 'verification_request', claim_path: claimPath };
  if (notes?.trim()) msg.notes = notes;
  if (objective.trim()) msg.objective = objective;
  return JSON.stringify(msg);
}
