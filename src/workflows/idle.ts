/** What the Solver hears when it ends a turn without a signal (docs/behaviour.md §3.4, §5). */
import type { NewItem } from '../protocol/activities';
import { formatDuration } from '../protocol/duration';
import { formatUsd } from '../protocol/goal';
import type { RunContext } from './context';
import { goalView, limitedByCost } from './goal';
import type { SolverNext } from './state';

export function escapeObjective(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What the continuation and budget-limit messages both show: the escaped objective, time and tokens. */
function goalVars(ctx: RunContext): Record<string, string> {
  const g = goalView(ctx.state.goal, ctx.now());
  return {
    objective: escapeObjective(g.objective),
    time_used: formatDuration(g.timeUsedSeconds),
    tokens_used: String(g.tokensUsed),
    token_budget: g.tokenBudget === null ? 'none' : String(g.tokenBudget),
  };
}

export function continuationItem(ctx: RunContext): NewItem {
  const remaining = goalView(ctx.state.goal, ctx.now()).remainingTokens;
  return {
    type: 'prompt_message',
    template: 'continuation',
    vars: { ...goalVars(ctx), remaining_tokens: remaining === null ? 'unlimited' : String(remaining) },
  };
}

/**
 * The budget-limit message. A run with a cost budget says which budget was reached and shows the
 * dollars too; a run without one sends the vars it always did (the model activity fills in the
 * token heading and line, `budgetLimitDefaults` in src/activities/model.ts), so its text is unchanged.
 */
export function budgetLimitItem(ctx: RunContext): NewItem {
  const g = ctx.state.goal;
  const vars = goalVars(ctx);
  const cost: Record<string, string> =
    g.costBudgetUsd == null
      ? {}
      : {
          budget_heading: limitedByCost(g) ? 'Cost budget reached' : 'Token budget reached',
          budget_lines: [
            `- Tokens used: ${vars.tokens_used} of ${vars.token_budget}`,
            `- Cost: ${formatUsd(g.pricedCostUsd ?? 0)} of ${formatUsd(g.costBudgetUsd)}${(g.unpricedCalls ?? 0) > 0 ? ` (and ${g.unpricedCalls} model call(s) whose price is unknown)` : ''}`,
          ].join('\n'),
        };
  return {
    type: 'prompt_message',
    template: 'budget_limit',
    vars: {
      ...vars,
      ...cost,
      turns_allowed: String(ctx.input.budgetGraceTurns),
      model_calls_allowed: String(ctx.input.budgetGraceModelCalls),
    },
  };
}

/** Tells the Solver the user changed the objective: the new one, escaped, in `<untrusted_objective>`. */
export function objectiveUpdatedItem(ctx: RunContext): NewItem {
  return { type: 'prompt_message', template: 'objective_updated', vars: { objective: escapeObjective(ctx.state.goal.objective) } };
}

const finalization = (): SolverNext => ({ items: [{ type: 'prompt_message', template: 'finalization', vars: {} }], schema: 'solver_final' });

/**
 * Continuation, then the finalization instruction, then a `stalled` pause (the reference waited
 * forever). A turn that used tools made progress, so the same prompt is sent again rather than
 * escalating. A budget-limited goal never hears "the objective is still active": it gets the
 * finalization instruction.
 */
export function onIdle(ctx: RunContext): SolverNext {
  const s = ctx.state;
  const worked = s.turnToolCalls > 0;
  if (s.goal.status === 'budget_limited') {
    s.idleStage = 2;
    ctx.event('finalization', 'the budget-limited Solver ended its turn without a signal; sent the finalization instruction', 'solver');
    return finalization();
  }
  if (s.idleStage === 0 || (s.idleStage === 1 && worked)) {
    s.idleStage = 1;
    ctx.event('continuation', 'Solver ended its turn without a signal; sent the continuation prompt', 'solver');
    return { items: [continuationItem(ctx)], schema: 'solver_signal' };
  }
  if (s.idleStage === 1 || worked) {
    s.idleStage = 2;
    ctx.event('finalization', 'Solver idled again; sent the finalization instruction', 'solver');
    return finalization();
  }
  s.idleStage = 1;
  ctx.holdRun('stalled: the Solver produced no tool call and no signal after the continuation and finalization prompts; steer it and resume', 'steer');
  return { items: [continuationItem(ctx)], schema: 'solver_signal' };
}
