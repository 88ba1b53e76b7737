/**
 * The convergence watchdog in the run (docs/behaviour.md §3.7): feeds what the Solver does to the
 * pure detector (./watchdog), and acts on its signals before the Solver's next step — first a
 * direction request to the Director on the Solver's behalf, then a pause of the goal. Versioned:
 * histories from before it replay unchanged (nothing is recorded for them).
 */
import type { NewItem, StepToolCall } from '../protocol/activities';
import { userMessage } from '../protocol/items';
import type { VerificationFeedback } from '../protocol/verdict';
import { BudgetExhausted, type RunContext, RunFailure } from './context';
import { askDirector } from './direction';
import { budgetReached } from './goal';
import { isPatched } from './patches';
import { abbreviate, type ToolObserver } from './roleTurn';
import { decide, hash, newWatchdog, noteCall, notePlan, noteVerification, type WatchdogState } from './watchdog';

/** The watchdog's state; created here for runs that started (or continued as new) before it existed. */
function watchdog(ctx: RunContext): WatchdogState | undefined {
  if (!isPatched('convergenceWatchdog')) return undefined;
  ctx.state.watchdog ??= newWatchdog();
  return ctx.state.watchdog;
}

/** A new objective: repeats under the old one are no evidence about work on the new one (docs/behaviour.md §3.8). */
export function restartWatchdogForNewObjective(ctx: RunContext): void {
  if (ctx.state.watchdog && isPatched('objectiveRestartsWatchdog')) ctx.state.watchdog = newWatchdog();
}

/** Records each finished Solver tool call (and accepted plan updates). */
export function watchToolCalls(ctx: RunContext): ToolObserver {
  return (call: StepToolCall, result) => {
    const w = watchdog(ctx);
    if (!w) return;
    const planUpdated = call.name === 'update_plan' && 'inline' in result && !result.failed;
    const seen =
      'inline' in result
        ? { failed: result.failed, fingerprint: hash(result.inline) }
        : { failed: result.failed === true, ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}) };
    let next = noteCall(w, { name: call.name, arguments: call.arguments, ...seen }, `${call.name} ${abbreviate(call.arguments, 160)}`);
    if (planUpdated) next = notePlan(next, ctx.state.plan.steps);
    ctx.state.watchdog = next;
  };
}

/** Records a verification round's aggregate. */
export function watchVerification(ctx: RunContext, feedback: VerificationFeedback): void {
  const w = watchdog(ctx);
  if (w) ctx.state.watchdog = noteVerification(w, feedback);
}

/**
 * Acts on a pending signal: asks the Director (its directive goes to the Solver with its next step,
 * after the tool outputs) or pauses the goal with reason `not_converging: <evidence>`.
 */
export async function convergenceCheck(ctx: RunContext): Promise<NewItem[]> {
  const w = ctx.state.watchdog;
  if (!w?.pending) return [];
  const { state, next } = decide(w);
  ctx.state.watchdog = state;
  if (next.action === 'none') return [];
  const { evidence } = next.signal;
  if (next.action === 'pause') {
    endIfBudgetReached(ctx, `${evidence}; still not converging after the Director's directive`);
    ctx.event('not_converging', `${evidence}; still not converging after the Director's directive: the goal is paused`, 'solver');
    ctx.holdRun(`not_converging: ${evidence}`, 'steer');
    return [];
  }
  ctx.event('not_converging', `${evidence}; asking the Director for a directive`, 'solver');
  try {
    const directive = await askDirector(
      ctx,
      `The orchestrator's convergence watchdog asks on the Solver's behalf: the Solver is not converging — ${evidence}. ` +
        'Give it a directive that breaks this pattern (a different approach, or what to find out first).',
    );
    return [userMessage(directive)];
  } catch (err) {
    // A run that can be held is not failed (docs/behaviour.md §3.8): the Director's failure becomes the pause's reason.
    if (!(err instanceof RunFailure) || !isPatched('watchdogDirectorFailureHolds')) throw err;
    endIfBudgetReached(ctx, `${evidence}; the Director could not help: ${err.message}`);
    ctx.state.watchdog = newWatchdog();
    ctx.event('not_converging', `${evidence}; the Director could not help (${err.message}): the goal is paused`, 'solver');
    ctx.holdRun(`not_converging: ${evidence}; the Director could not help: ${err.message}`, 'steer');
    return [];
  }
}

/**
 * The budget's promise wins over the watchdog's pause (docs/behaviour.md §3.8): a budget-limited run
 * that is not converging ends `budget_exhausted` now instead of being held past its bounded grace.
 */
function endIfBudgetReached(ctx: RunContext, why: string): void {
  if (ctx.state.goal.status !== 'budget_limited' || !isPatched('budgetOverWatchdog')) return;
  ctx.event('not_converging', `${why}; the budget is reached, so the run ends instead of pausing`, 'solver');
  throw new BudgetExhausted(`${budgetReached(ctx.state.goal)} and the Solver is not converging: ${why}`);
}
