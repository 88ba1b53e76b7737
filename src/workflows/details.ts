/**
 * The run's "current details" for the Temporal Web UI (Temporal's user metadata, set with
 * `setCurrentDetails` and read through the `__temporal_workflow_metadata` query): a short markdown
 * view of where the run stands — phase and active role, the goal and its budget, verification
 * rounds, the plan, the last few events (docs/behaviour.md).
 *
 * Pure and deterministic (it runs in the workflow): no I/O; time comes in as `now`.
 */

import { formatUsd, type Goal } from '../protocol/goal';
import type { RunEvent } from '../protocol/progress';
import { groupDigits, markdownText, oneLine } from '../protocol/userMetadata';
import { goalView } from './goal';
import type { RunState } from './state';

/** Events shown, newest last. */
export const DETAIL_EVENTS = 6;

const MAX_EVENT_CHARS = 160;
const MAX_LINE_CHARS = 200;

/** On one line, cut to `max` characters, shown literally in markdown. */
function inline(text: string, max = MAX_LINE_CHARS): string {
  return markdownText(oneLine(text, max));
}

/** `kind: message`; a tool call as its activity summary says it (`shell: npm test`, not its JSON). */
function eventText(e: RunEvent): string {
  // A tool call carries its tool and detail (src/workflows/roleTurn.ts); older events only the message.
  if (e.tool) return inline(e.tool.detail ? `${e.tool.name}: ${e.tool.detail}` : e.tool.name, MAX_EVENT_CHARS);
  return `${inline(e.kind, 40)}: ${inline(e.message, MAX_EVENT_CHARS)}`;
}

/** 3725 → "1h 02m 05s"; 65 → "1m 05s"; 7 → "7s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (v: number) => String(v).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m ${pad(sec)}s`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

/** `$0.42 of $1.00 (42%)`, `$0.42 (no cost budget)`, `price unknown (3 calls)` — never an invented number. */
function costText(goal: Goal): string {
  const budget = goal.costBudgetUsd == null ? '' : ` of ${formatUsd(goal.costBudgetUsd)}`;
  if (goal.costUsd == null) return `price unknown (${goal.unpricedCalls ?? 0} call(s))${budget ? `; budget${budget}` : ''}`;
  if (goal.costBudgetUsd == null) return formatUsd(goal.costUsd);
  return `${formatUsd(goal.costUsd)}${budget} (${Math.min(999, Math.floor((goal.costUsd / goal.costBudgetUsd) * 100))}%)`;
}

/** The current details of a run, as markdown. */
export function currentDetails(state: RunState, now: number): string {
  const goal = goalView(state.goal, now);
  const status: string[] = [];

  // The phase users see: waiting for the owner worker overrides what the run is doing (as in progress).
  const phase = [`**Phase:** ${inline(state.waitingForWorker ? 'waiting_for_worker' : state.phase)}`];
  if (state.activeRole) phase.push(`**active role:** ${inline(state.activeRole)}`);
  if (state.owner) phase.push(`**worker:** ${inline(state.owner.workerId, 80)}`);
  status.push(phase.join(' · '));
  if (state.waitingForWorker) status.push(`**Waiting for worker:** ${inline(state.waitingForWorker)}`);
  for (const p of state.approvals?.pending ?? []) {
    const why = p.kind === 'escalation' ? 'asks for network access' : 'not on the read-only safe list';
    status.push(
      `**Waiting for approval:** ${inline(p.tool, 80)} (${why}): ${inline(p.command, 160)}${p.justification ? ` — ${inline(p.justification, 120)}` : ''} · ` +
        `decide with: ${inline(`infty approve ${p.runId} ${p.callId}`, 200)} (or infty deny … --reason …)${p.expiresAt ? ` · denied at ${inline(p.expiresAt, 40)} if nobody answers` : ''}`,
    );
  }

  const budget =
    goal.tokenBudget === null
      ? '(no budget)'
      : `of ${groupDigits(goal.tokenBudget)} (${Math.min(999, Math.floor((goal.tokensUsed / goal.tokenBudget) * 100))}%)`;
  const goalLine = [
    `**Goal:** ${inline(goal.status)}`,
    `**tokens used:** ${groupDigits(goal.tokensUsed)}${goal.tokensEstimated ? ' (estimated)' : ''} ${budget}`,
    `**cost:** ${costText(goal)}`,
    `**active time:** ${duration(goal.timeUsedSeconds)}`,
  ];
  status.push(goalLine.join(' · '));
  if (goal.statusReason) status.push(`**Why:** ${inline(goal.statusReason)}`);

  const rounds = [`**Verification rounds:** ${state.verificationRounds}`];
  if (state.continueAsNewCount > 0) rounds.push(`**continued as new:** ${state.continueAsNewCount}×`);
  status.push(rounds.join(' · '));

  const steps = state.plan.steps;
  if (steps.length > 0) {
    const done = steps.filter((s) => s.status === 'completed').length;
    const current = steps.find((s) => s.status === 'in_progress');
    status.push(`**Plan:** ${done} of ${steps.length} steps done${current ? ` · now: ${inline(current.step, 120)}` : ''}`);
  }

  if (state.outcome) {
    const o = state.outcome;
    status.push(`**Outcome:** ${inline(o.status)} — ${inline(o.status === 'delivered' ? o.deliverablePath : o.reason)}`);
  }

  // One paragraph of status lines (markdown hard breaks), then the events as a list.
  const blocks = [status.join('  \n')];
  const events = state.events.slice(-DETAIL_EVENTS);
  if (events.length > 0) {
    const lines = events.map((e) => {
      const time = /T(\d\d:\d\d:\d\d)/.exec(e.at)?.[1] ?? '';
      const who = e.role ? `${inline(e.role, 40)} · ` : '';
      return `- ${time ? `${time} ` : ''}${who}${eventText(e)}`;
    });
    blocks.push(`**Recent events** (UTC)\n\n${lines.join('\n')}`);
  }
  return blocks.join('\n\n');
}
