/** What the Solver hears when it ends a turn without a signal (SPEC §3 "Solver idles", §5). */
import type { NewItem } from '../protocol/activities';
import type { RunContext } from './context';
import { goalView } from './goal';
import type { SolverNext } from './solver';

export function escapeObjective(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

export function continuationItem(ctx: RunContext): NewItem {
  const g = goalView(ctx.state.goal, ctx.now());
  return {
    type: 'prompt_message',
    template: 'continuation',
    vars: {
      objective: escapeObjective(g.objective),
      time_used: formatDuration(g.timeUsedSeconds),
      tokens_used: String(g.tokensUsed),
      token_budget: g.tokenBudget === null ? 'none' : String(g.tokenBudget),
      remaining_tokens: g.remainingTokens === null ? 'unlimited' : String(g.remainingTokens),
    },
  };
}

export function budgetLimitItem(ctx: RunContext): NewItem {
  const g = goalView(ctx.state.goal, ctx.now());
  return {
    type: 'prompt_message',
    template: 'budget_limit',
    vars: {
      objective: escapeObjective(g.objective),
      time_used: formatDuration(g.timeUsedSeconds),
      tokens_used: String(g.tokensUsed),
      token_budget: String(g.tokenBudget),
      turns_allowed: String(ctx.input.budgetGraceTurns),
      model_calls_allowed: String(ctx.input.budgetGraceModelCalls),
    },
  };
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
  ctx.holdRun('stalled: the Solver produced no tool call and no signal after the continuation and finalization prompts; steer it and resume');
  return { items: [continuationItem(ctx)], schema: 'solver_signal' };
}
