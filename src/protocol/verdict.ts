import { z } from 'zod';

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
