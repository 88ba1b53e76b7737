/** Human-readable rendering of events, goals, progress and outcomes. */

import type { DeliverableReport } from '../protocol/deliverable';
import { formatDuration } from '../protocol/duration';
import { formatUsd, type Goal } from '../protocol/goal';
import type { RunOutcome } from '../protocol/outcome';
import type { Progress, RunEvent } from '../protocol/progress';
import type { ProjectDocsRecord, ProjectRecord } from '../protocol/project';

export function formatEvent(e: RunEvent): string {
  const time = e.at.slice(11, 19);
  const who = (e.role ?? 'run').padEnd(15);
  return `${time}  ${who} ${e.kind.padEnd(18)} ${e.message}`;
}

export function formatTokens(n: number): string {
  return n.toLocaleString('en-US');
}

export function goalBar(goal: Goal, width = 30): string {
  // Goals from runs started before estimation existed have no tokensEstimated.
  const estimated = goal.tokensEstimated ? ', partly estimated: the endpoint reported no usage' : '';
  if (goal.tokenBudget === null) return `${formatTokens(goal.tokensUsed)} tokens (no budget${estimated})`;
  const ratio = Math.min(1, goal.tokensUsed / goal.tokenBudget);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatTokens(goal.tokensUsed)} / ${formatTokens(goal.tokenBudget)} tokens (${Math.round(ratio * 100)}%${estimated})`;
}

/**
 * The goal's dollars: `$0.0421 (no cost budget)`, `[###...] $0.42 / $1.00 (42%)`, or `price unknown
 * (3 model calls)` — never an invented number. Goals from runs before cost was counted have no cost fields.
 */
export function costLine(goal: Goal, width = 30): string {
  const budget = goal.costBudgetUsd ?? null;
  if (goal.costUsd === undefined) {
    return `not known here (a worker of this version answers with it)${budget === null ? '' : `; cost budget ${formatUsd(budget)}`}`;
  }
  if (goal.costUsd == null) {
    return `price unknown (${goal.unpricedCalls ?? 0} model call(s) of a model without a known price)${budget === null ? '' : `; cost budget ${formatUsd(budget)}, ${formatUsd(budget - (goal.remainingCostUsd ?? budget))} of it counted`}`;
  }
  if (budget === null) return `${formatUsd(goal.costUsd)} (no cost budget)`;
  const ratio = Math.min(1, goal.costUsd / budget);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatUsd(goal.costUsd)} / ${formatUsd(budget)} (${Math.round(ratio * 100)}%)`;
}

/** A role's dollars for the roles table: `$0.0123`, or `price unknown`; `-` from workers older than cost. */
export function formatRoleCost(cost: number | null | undefined): string {
  if (cost === undefined) return '-';
  return cost === null ? 'price unknown' : formatUsd(cost);
}

export function formatGoal(goal: Goal): string {
  return [
    `objective: ${goal.objective}`,
    `status:    ${goal.status}${goal.statusReason ? ` (${goal.statusReason})` : ''}`,
    `tokens:    ${goalBar(goal)}`,
    `remaining: ${goal.remainingTokens === null ? 'unlimited' : formatTokens(goal.remainingTokens)}`,
    `cost:      ${costLine(goal)}`,
    `time:      ${formatDuration(goal.timeUsedSeconds)} active`,
    `updated:   ${goal.updatedAt}`,
  ].join('\n');
}

/** The model asked for, and the one the endpoint said answered when that differs (absent in runs from before it was recorded). */
export function formatRoleModel(s: { model: string; answeringModel?: string }): string {
  return s.answeringModel && s.answeringModel !== s.model ? `${s.model} (answered: ${s.answeringModel})` : s.model;
}

function formatRoles(p: Progress): string {
  const rows = Object.entries(p.roles).map(
    ([role, s]) =>
      // reasoningEffort is absent from workers older than the field: shown as the model's default.
      `  ${role.padEnd(16)} ${String(s.turns).padStart(5)} ${String(s.modelCalls).padStart(6)} ${String(s.toolCalls).padStart(6)} ${formatTokens(s.tokensUsed).padStart(10)} ${formatRoleCost(s.costUsd).padStart(13)} ${String(s.compactions).padStart(5)}  ${(s.reasoningEffort ?? 'default').padEnd(8)} ${formatRoleModel(s)}`,
  );
  return [
    `  ${'role'.padEnd(16)} ${'turns'.padStart(5)} ${'calls'.padStart(6)} ${'tools'.padStart(6)} ${'tokens'.padStart(10)} ${'cost'.padStart(13)} ${'comp.'.padStart(5)}  ${'effort'.padEnd(8)} model`,
    ...rows,
  ].join('\n');
}

export function formatOutcome(o: RunOutcome): string {
  if (o.status === 'delivered') return `delivered: ${o.deliverablePath}${o.verifiedHash ? ` (verified hash ${o.verifiedHash})` : ''}`;
  return `${o.status}: ${o.reason}`;
}

function describeDeliverable(d: DeliverableReport): string {
  return d.kind === 'file' ? `file, ${formatTokens(d.size)} bytes, sha256 ${d.sha256}` : `directory, ${d.files} file(s), ${formatTokens(d.size)} bytes`;
}

export function formatSummary(p: Progress, outcome: RunOutcome): string {
  const lines = [`Run ${p.runId}: ${outcome.status}`, `  directory:   ${p.runDir ?? '(not created)'}`, `  objective:   ${p.objective}`];
  if (outcome.status === 'delivered') {
    lines.push(`  deliverable: ${outcome.deliverablePath}${outcome.deliverable ? ` (${describeDeliverable(outcome.deliverable)})` : ''}`);
    if (outcome.verifiedHash) lines.push(`  verified:    ${outcome.verifiedHash} (check it later: infty verify ${outcome.runId})`);
    if (outcome.summary) lines.push(`  summary:     ${outcome.summary}`);
  } else {
    lines.push(`  reason:      ${outcome.reason}`);
  }
  lines.push(
    `  time:        ${formatDuration(p.goal.timeUsedSeconds)} active, ${p.verificationRounds} verification round(s)`,
    `  tokens:      ${goalBar(p.goal)}`,
    `  cost:        ${costLine(p.goal)}`,
  );
  return lines.join('\n');
}

/** The phase line; a run waiting for its owner worker says which worker and how to bring it back. */
export function formatPhase(p: Progress): string {
  if (p.waitingForWorker) {
    return `${p.phase} — worker "${p.waitingForWorker}" holds this run's files and is not taking its work; start \`infty worker\` with INFTY_WORKER_ID=${p.waitingForWorker} on that machine`;
  }
  return `${p.phase}${p.activeRole ? ` — ${p.activeRole}` : ''}`;
}

function formatStorage(p: Progress): string {
  return p.owner ? `on worker "${p.owner.workerId}" (local storage, task queue ${p.owner.taskQueue})` : 'any worker (shared storage)';
}

/**
 * The plan as the Solver last reported it (update_plan): the model may never mark its steps done, so
 * it is labelled as reported, and an ended run says so (its open steps are not current work).
 */
export function formatPlan(p: Progress): string[] {
  if (!p.plan.steps.length) return [];
  const ended = p.status === 'running' ? '' : p.status === 'delivered' ? '; the run has since been delivered' : `; the run has since ended ${p.status}`;
  return [
    `plan (as last reported by the Solver${ended}):`,
    ...p.plan.steps.map((s) => `  [${s.status === 'completed' ? 'x' : s.status === 'in_progress' ? '>' : ' '}] ${s.step}`),
  ];
}

/** The approval policy when it is not `never`, and each call waiting for a person with the commands that decide it. */
export function formatApprovals(p: Progress): string[] {
  const a = p.approvals;
  if (!a || (a.policy === 'never' && !a.pending.length)) return [];
  const decided = a.decided.length ? `; decided so far: ${a.decided.length}` : '';
  return [
    `approval:  ${a.policy}${decided}`,
    ...a.pending.map(
      (c) =>
        `  waiting: ${c.callId} ${c.tool}: ${c.command}${c.justification ? ` (why: ${c.justification})` : ''} — infty approve ${p.runId} ${c.callId} | infty deny ${p.runId} ${c.callId} --reason "…"`,
    ),
  ];
}

/** Workflow statuses (lower case) of an execution that has ended. */
const CLOSED_WORKFLOW = ['completed', 'failed', 'cancelled', 'terminated', 'timed_out'];

/**
 * The GOAL column of `infty list`. A run that ended without delivering keeps the goal status its
 * workflow last set (`paused`, or `active` when it was terminated), which reads as a run that is
 * still waiting; for an ended workflow such a status is replaced by how the run ended: run.json's
 * status when it names an end, else the workflow's (`cancelled`, `terminated`, `timed_out`, …).
 */
export function listedGoalStatus(goalStatus: string | null, workflowStatus: string, runStatus?: string | null): string | null {
  if (goalStatus !== 'active' && goalStatus !== 'paused') return goalStatus;
  if (!CLOSED_WORKFLOW.includes(workflowStatus)) return goalStatus;
  if (workflowStatus === 'completed') return runStatus && runStatus !== 'running' && runStatus !== 'completed' ? runStatus : 'ended';
  return workflowStatus;
}

export function formatProgress(p: Progress, lastEvents = 15): string {
  return [
    `run:       ${p.runId} (${p.status})`,
    ...(p.forkOf ? [`fork of:   ${p.forkOf.runId} at turn ${p.forkOf.turn}`] : []),
    `phase:     ${formatPhase(p)}`,
    `directory: ${p.runDir ?? '(not created)'}  sandbox: ${p.sandbox ?? '-'}`,
    ...(p.runDir ? [`files:     ${formatStorage(p)}`] : []),
    `goal:      ${p.goal.status}${p.goal.statusReason ? ` (${p.goal.statusReason})` : ''}`,
    `tokens:    ${goalBar(p.goal)}`,
    `cost:      ${costLine(p.goal)}`,
    `time:      ${formatDuration(p.goal.timeUsedSeconds)} active; verification rounds: ${p.verificationRounds}; continued-as-new: ${p.continueAsNewCount}`,
    ...formatApprovals(p),
    ...formatPlan(p),
    'roles:',
    formatRoles(p),
    ...(p.outcome ? [`outcome:   ${formatOutcome(p.outcome)}`] : []),
    'last events:',
    ...p.events.slice(-lastEvents).map((e) => `  ${formatEvent(e)}`),
  ].join('\n');
}

/** A project run's lines of `infty show` (docs/behaviour.md §4.4–4.5), from run.json; empty for other runs. */
export function formatProjectLines(runJson: Record<string, unknown> | null | undefined): string {
  const lines: string[] = [];
  const project = runJson?.project as ProjectRecord | undefined;
  if (project) {
    const src = project.source;
    const from = src.kind === 'path' ? src.path : `${src.url}${src.ref ? `#${src.ref}` : ''}`;
    const at = project.commit ? ` at ${project.commit.slice(0, 12)}${project.branch ? ` (${project.branch})` : ''}` : '';
    lines.push(`project:   ${from}${at}; ${project.files} files, ${project.bytes} bytes; delivers ${project.deliver}`);
    lines.push(`workdir:   ${project.workdir}`);
    if (project.skippedLinks.length)
      lines.push(`skipped:   ${project.skippedLinks.length} link(s) pointing outside the project: ${project.skippedLinks.slice(0, 5).join(', ')}`);
  }
  const docs = runJson?.project_docs as ProjectDocsRecord | undefined;
  if (docs)
    lines.push(`AGENTS.md: ${docs.files.join(', ')}; ${docs.bytes} bytes, sha256 ${docs.sha256.slice(0, 16)}${docs.truncated ? ' (cut at 32 KiB)' : ''}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}
