/** Tools the workflow runs itself (`runsIn: 'workflow'` in src/protocol/tools.ts): they change the run's state, not the world. */
import type { StepToolCall } from '../protocol/activities';
import { parseUpdatePlan } from '../protocol/plan';
import type { WorkflowToolName } from '../protocol/tools';
import type { RunContext } from './context';

function updatePlan(ctx: RunContext, call: StepToolCall): string {
  if (call.argumentsInTranscript) return 'Error: the plan is too large; keep it to a short list of steps.';
  const parsed = parseUpdatePlan(call.arguments);
  if (!parsed.ok) return parsed.error;
  ctx.state.plan = { explanation: parsed.explanation, steps: parsed.steps };
  return 'Plan updated';
}

/** Each returns the call's output. */
export const WORKFLOW_TOOLS: Record<WorkflowToolName, (ctx: RunContext, call: StepToolCall) => string> = {
  update_plan: updatePlan,
};
