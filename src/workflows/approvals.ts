/**
 * Waiting for a person (docs/behaviour.md §7.8): a call the approval policy gates is recorded as
 * pending, the run's phase becomes `awaiting_approval`, and the workflow waits on a condition (no
 * activity, no worker slot) until an `approve` or `deny` update, or `--approval-timeout`, decides it.
 */
import { condition, setHandler, upsertMemo } from '@temporalio/workflow';
import type { StepToolCall } from '../protocol/activities';
import {
  APPROVALS_MEMO_KEY,
  type ApprovalDecision,
  type ApprovalResult,
  type ApprovalVerdict,
  ApproveRequestSchema,
  approvalNeeded,
  cut,
  DenyRequestSchema,
  MAX_APPROVAL_TEXT,
  MAX_REMEMBERED_DECISIONS,
  type PendingApproval,
} from '../protocol/approval';
import { formatZodError } from '../protocol/json';
import { approveUpdate, denyUpdate } from '../protocol/names';
import type { RunContext } from './context';
import { awaitPerson } from './goal';
import { isPatched } from './patches';
import type { ApprovalState } from './state';

/** What the gate lets through: run the call (with network when an escalation was approved), or answer it with `output`. */
export type GateResult = { run: true; escalated: boolean } | { run: false; output: string };

function approvals(ctx: RunContext): ApprovalState {
  ctx.state.approvals ??= { pending: [], decided: [] };
  return ctx.state.approvals;
}

/**
 * Runs before a tool call leaves the workflow. A call the policy does not gate passes at once and
 * records nothing (so histories from before approvals replay unchanged); a gated one waits.
 */
export async function approvalGate(ctx: RunContext, role: string, call: StepToolCall): Promise<GateResult> {
  const need = approvalNeeded(call, ctx.input.approval, ctx.state.mcpTools);
  if (!need || !isPatched('approvals')) return { run: true, escalated: false };
  const now = ctx.now();
  const timeoutMs = ctx.input.approvalTimeoutSecs === undefined ? undefined : ctx.input.approvalTimeoutSecs * 1000;
  const request: PendingApproval = {
    runId: ctx.input.runId,
    callId: call.callId,
    role,
    tool: call.name,
    kind: need.kind,
    command: need.command,
    justification: need.justification,
    requestedAt: new Date(now).toISOString(),
    expiresAt: timeoutMs === undefined ? null : new Date(now + timeoutMs).toISOString(),
  };
  const state = approvals(ctx);
  state.pending.push(request);
  ctx.setGoal(awaitPerson(ctx.state.goal, true, now));
  const { phase, activeRole } = ctx.state;
  ctx.setPhase('awaiting_approval', role);
  const what = need.kind === 'escalation' ? `${call.name} asks for network access` : `${call.name} is not on the read-only safe list`;
  ctx.event(
    'approval_requested',
    `${what}: ${cut(need.command, 300)}${need.justification ? ` — "${cut(need.justification, 200)}"` : ''}; call ${call.callId}: infty approve ${ctx.input.runId} ${call.callId} | infty deny ${ctx.input.runId} ${call.callId} --reason …`,
    role,
  );
  syncApprovals(ctx);
  const decided = () => !state.pending.some((p) => p.callId === call.callId);
  let inTime = true;
  if (timeoutMs === undefined) await condition(decided);
  else inTime = await condition(decided, timeoutMs);
  if (!inTime) decide(ctx, call.callId, 'timed_out', `nobody approved it within ${ctx.input.approvalTimeoutSecs} s (--approval-timeout)`);
  ctx.setGoal(awaitPerson(ctx.state.goal, false, ctx.now()));
  ctx.setPhase(phase, activeRole);
  syncApprovals(ctx);
  const decision = [...state.decided].reverse().find((d) => d.callId === call.callId)!;
  // An approval given while the run is paused takes effect when it resumes.
  await ctx.waitWhileHeld();
  if (decision.verdict === 'approved') return { run: true, escalated: need.kind === 'escalation' };
  return { run: false, output: denialOutput(call.name, need.kind, decision) };
}

function denialOutput(tool: string, kind: 'escalation' | 'untrusted', d: ApprovalDecision): string {
  const what = kind === 'escalation' ? 'request to run this command with network access' : `${tool} call`;
  const why = d.verdict === 'timed_out' ? d.reason : d.reason ? `the user's reason: ${d.reason}` : 'no reason was given';
  return `Error: the ${what} was denied (${why}). It was not run. Do not retry it unchanged; find another way, or explain in your final message what you need.`;
}

/** Moves a pending call to the decided list; false when no such call waits. */
function decide(ctx: RunContext, callId: string, verdict: ApprovalVerdict, reason: string | null): ApprovalDecision | null {
  const state = approvals(ctx);
  const i = state.pending.findIndex((p) => p.callId === callId);
  if (i < 0) return null;
  const [p] = state.pending.splice(i, 1);
  const decision: ApprovalDecision = { callId, tool: p!.tool, verdict, reason, decidedAt: new Date(ctx.now()).toISOString() };
  state.decided.push(decision);
  if (state.decided.length > MAX_REMEMBERED_DECISIONS) state.decided.splice(0, state.decided.length - MAX_REMEMBERED_DECISIONS);
  ctx.event('approval_decided', `${p!.tool} call ${callId} ${verdict.replace('_', ' ')}${reason ? `: ${cut(reason, 300)}` : ''}`, p!.role);
  return decision;
}

/** A run that ends (cancelled, failed) while a call waits: nothing waits any more, in progress and in the memo. */
export function endPendingApprovals(ctx: RunContext, why: string): void {
  const waiting = [...(ctx.state.approvals?.pending ?? [])];
  if (waiting.length === 0) return;
  for (const p of waiting) decide(ctx, p.callId, 'denied', why);
  ctx.setGoal(awaitPerson(ctx.state.goal, false, ctx.now()));
  upsertMemo({ [APPROVALS_MEMO_KEY]: [] });
}

/** Search attributes, current details, and the memo `infty approvals` reads without a worker. */
function syncApprovals(ctx: RunContext): void {
  ctx.syncSearchAttributes();
  upsertMemo({ [APPROVALS_MEMO_KEY]: approvals(ctx).pending });
}

/** Why `callId` cannot be decided now, or null when it can. */
function refusal(ctx: RunContext, callId: string | undefined): string | null {
  if (ctx.state.outcome) return `the run has ended (${ctx.state.outcome.status}); nothing waits for approval`;
  const state = ctx.state.approvals;
  const pending = state?.pending ?? [];
  if (callId === undefined) return pending.length ? null : `nothing in run ${ctx.input.runId} waits for approval`;
  if (pending.some((p) => p.callId === callId)) return null;
  const done = [...(state?.decided ?? [])].reverse().find((d) => d.callId === callId);
  if (done) return `call ${callId} was already decided (${done.verdict.replace('_', ' ')} at ${done.decidedAt})`;
  const waiting = pending.map((p) => p.callId).join(', ');
  return `no call ${callId} waits for approval in run ${ctx.input.runId}${waiting ? `; waiting: ${waiting}` : ''}`;
}

/** The approve and deny updates, with validators that refuse an unknown or already decided call. */
export function installApprovalHandlers(ctx: RunContext): void {
  setHandler(
    approveUpdate,
    (req): ApprovalResult => {
      const ids = req.callId === undefined ? approvals(ctx).pending.map((p) => p.callId) : [req.callId];
      const decided = ids.map((id) => decide(ctx, id, 'approved', null)).filter((d): d is ApprovalDecision => d !== null);
      return { runId: ctx.input.runId, decided };
    },
    {
      validator: (req) => {
        const parsed = ApproveRequestSchema.safeParse(req);
        if (!parsed.success) throw new Error(formatZodError(parsed.error));
        const why = refusal(ctx, parsed.data.callId);
        if (why) throw new Error(why);
      },
    },
  );
  setHandler(
    denyUpdate,
    (req): ApprovalResult => {
      const reason = req.reason?.trim() ? cut(req.reason.trim(), MAX_APPROVAL_TEXT) : null;
      const d = decide(ctx, req.callId, 'denied', reason);
      return { runId: ctx.input.runId, decided: d ? [d] : [] };
    },
    {
      validator: (req) => {
        const parsed = DenyRequestSchema.safeParse(req);
        if (!parsed.success) throw new Error(formatZodError(parsed.error));
        const why = refusal(ctx, parsed.data.callId);
        if (why) throw new Error(why);
      },
    },
  );
}
