import { z } from 'zod';

export const VerdictSchema = z.object({
  verdict: z.enum(['pass', 'fail']),
  reasons: z.array(z.string()),
  suggestions: z.array(z.string()),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export interface RoleVerdict extends Verdict {
  role: string;
  /** The content hash of the deliverable this verdict judged (docs/behaviour.md §3.3); absent in older runs. */
  verifiedHash?: string;
}

export interface VerificationFeedback {
  type: 'verification_feedback';
  overall: 'pass' | 'fail';
  verdicts: RoleVerdict[];
  /** The content hash of the deliverable the round judged (docs/behaviour.md §3.3); absent in older runs. */
  verifiedHash?: string;
}

/** Unanimous: pass only if every verdict passes; no verifiers is a pass. Every verdict is bound to `verifiedHash`. */
export function aggregateVerdicts(verdicts: RoleVerdict[], verifiedHash?: string): VerificationFeedback {
  const overall = verdicts.every((v) => v.verdict === 'pass') ? 'pass' : 'fail';
  const bound = verifiedHash === undefined ? {} : { verifiedHash };
  return {
    type: 'verification_feedback',
    overall,
    verdicts: verdicts.map(({ role, verdict, reasons, suggestions }) => ({ role, verdict, reasons, suggestions, ...bound })),
    ...bound,
  };
}

/** `change`: a project run's change against its base (docs/behaviour.md §4.4), judged against the objective. */
export function verificationRequestMessage(claimPath: string, notes: string | null, objective: string, change?: Record<string, unknown>): string {
  const msg: Record<string, unknown> = { type: 'verification_request', claim_path: claimPath };
  if (notes?.trim()) msg.notes = notes;
  if (objective.trim()) msg.objective = objective;
  if (change) msg.change = change;
  return JSON.stringify(msg);
}
