import { z } from 'zod';
import { formatZodError } from './signals';
import type { PlanStep } from './progress';

export const UpdatePlanArgsSchema = z.object({
  explanation: z.string().nullable().optional(),
  plan: z
    .array(z.object({ step: z.string().min(1), status: z.enum(['pending', 'in_progress', 'completed']) }))
    .refine((p) => p.filter((s) => s.status === 'in_progress').length <= 1, 'at most one step may be in_progress'),
});

export function parseUpdatePlan(
  rawArguments: string,
): { ok: true; explanation: string | null; steps: PlanStep[] } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(rawArguments);
  } catch (err) {
    return { ok: false, error: `update_plan arguments are not valid JSON (${(err as Error).message})` };
  }
  const parsed = UpdatePlanArgsSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: `invalid arguments for update_plan: ${formatZodError(parsed.error)}` };
  return { ok: true, explanation: parsed.data.explanation ?? null, steps: parsed.data.plan };
}
