/**
 * The budget's bounded grace (docs/behaviour.md §5.3): once the goal is budget-limited, one wrap-up
 * message, then at most `budgetGraceTurns` Solver turns and `budgetGraceModelCalls` model calls.
 * The one writer of the grace counters in the run state.
 */
import type { RunState } from './state';

/** The wrap-up message is due: the goal is limited and it has not been sent. Marks it sent. */
export function takeWrapUpNotice(s: RunState): boolean {
  if (s.goal.status !== 'budget_limited' || s.budgetNoticeSent) return false;
  s.budgetNoticeSent = true;
  s.graceTurnsUsed = 0;
  return true;
}

/** A Solver turn ended during the grace; true when it was the last one allowed. */
export function graceTurnEnded(s: RunState, allowed: number): boolean {
  if (s.goal.status !== 'budget_limited' || !s.budgetNoticeSent) return false;
  s.graceTurnsUsed += 1;
  return s.graceTurnsUsed >= allowed;
}

/** Charges one model call to the grace; false (nothing charged) when the allowed calls are spent. */
export function chargeGraceModelCall(s: RunState, allowed: number): boolean {
  if (s.goal.status !== 'budget_limited') return true;
  if (s.graceModelCalls >= allowed) return false;
  s.graceModelCalls += 1;
  return true;
}

/** The goal is no longer limited (a budget raised): the grace starts over if it is reached again. */
export function endGrace(s: RunState): void {
  s.budgetNoticeSent = false;
  s.graceTurnsUsed = 0;
  s.graceModelCalls = 0;
}
