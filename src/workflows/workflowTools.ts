/** Tools the workflow runs itself (`runsIn: 'workflow'` in src/protocol/tools.ts): they change the run's state, not the world. */
import type { StepToolCall } from '../protocol/activities';
import { parseUpdatePlan } from '../protocol/plan';
import type { WorkflowToolName } from '../protocol/tools';
import type { RunContext } from './context';

/** A workflow tool's output, and whether the call failed (the convergence watchdog counts failures). */
export interface WorkflowToolResult {
  output: string;
  failed: boolean;
}

function updatePlan(ctx: RunContext, call: StepToolCall): WorkflowToolResult {
  if (call.argumentsInTranscript) return { output: 'Error: the plan is too large; keep it to a short list of steps.', failed: true };
  const parsed = parseUpdatePlan(call.arguments);
  if (!parsed.ok) return { output: parsed.error, failed: true };
  ctx.state.plan = { explanation: parsed.explanation, steps: parsed.steps };
  return { output: 'Plan updated', failed: false };
}

export const WORKFLOW_TOOLS: Record<WorkflowToolName, (ctx: RunContext, call: StepToolCall) => WorkflowToolResult> = {
  update_plan: updatePlan,
};
