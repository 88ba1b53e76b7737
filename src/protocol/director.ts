import { z } from 'zod';

/** The Director's reply (docs/behaviour.md §2); forwarded to the Solver as this JSON. */
export const DirectorReplySchema = z.object({
  // A refinement, not .min(1): the JSON schema sent to the model stays free of length keywords.
  directive: z
    .string()
    .trim()
    .refine((d) => d.length > 0, 'directive must be non-blank'),
  rationale: z.string().nullable().default(null),
});
export type DirectorReply = z.output<typeof DirectorReplySchema>;

/** `change`: a project run's change so far (docs/behaviour.md §4.4). */
export function directionRequestMessage(prompt: string, objective: string, change?: Record<string, unknown>): string {
  return JSON.stringify({ type: 'direction_request', prompt, objective, ...(change ? { change } : {}) });
}
