import { z } from 'zod';
import { parseJson } from './json';
import type { PlanStep } from './progress';

export const UpdatePlanArgsSchema = z.object({
  explanation: z.string().nullable().optional(),
  plan: z
    .array(z.object({ step: z.string().min(1), status: z.enum(['pending', 'in_progress', 'completed']) }))
    .refine((p) => p.filter((s) => s.status === 'in_progress').length <= 1, 'at most one step may be in_progress'),
});

/** The arguments of an update_plan call (raw JSON, as tool arguments are: no fences). */
export function parseUpdatePlan(rawArguments: string): { ok: true; explanation: string | null; steps: PlanStep[] } | { ok: false; error: string } {
  const parsed = parseJson(rawArguments, UpdatePlanArgsSchema);
  if (parsed.ok) return { ok: true, explanation: parsed.value.explanation ?? null, steps: parsed.value.plan };
  if (parsed.reason === 'invalid_json') return { ok: false, error: `update_plan arguments are not valid JSON (${parsed.error})` };
  return { ok: false, error: `invalid arguments for update_plan: ${parsed.error}` };
}
