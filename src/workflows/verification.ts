/** A verification round: all Verifiers in parallel, each bounded, unanimous aggregate, rotation. */
import { userMessage } from '../protocol/items';
import type { ChangeSummary } from '../protocol/project';
import { aggregateVerdicts, type RoleVerdict, type VerificationFeedback, verificationRequestMessage } from '../protocol/verdict';
import { askForJson } from './ask';
import type { RunContext } from './context';
import { watchVerification } from './convergence';
import { changeView } from './project';
import { rotated } from './roleLedger';
import { abbreviate, withTimeout } from './roleTurn';

async function verify(ctx: RunContext, role: string, request: string): Promise<RoleVerdict> {
  const timeoutSecs = ctx.input.verifierTimeoutSecs;
  const result = await withTimeout(
    ctx,
    timeoutSecs * 1000,
    () => askForJson(ctx, role, [userMessage(request)], 'verdict'),
    `${role} · timeout (${timeoutSecs} s of active time)`,
  );
  if (!result.ok) {
    return { role, verdict: 'fail', reasons: [`${role} did not answer within ${timeoutSecs} s (verifier timeout)`], suggestions: [] };
  }
  const reply = result.value;
  if (reply.ok) return { role, ...reply.value };
  return { role, verdict: 'fail', reasons: [`${role} gave no valid verdict: ${reply.error}`], suggestions: [] };
}

/**
 * One round on the deliverable whose content hash is `contentHash` (validated right before, by the
 * caller): every verdict and the aggregate carry it as `verifiedHash` (docs/behaviour.md §3.3).
 */
export async function verificationRound(
  ctx: RunContext,
  claimPath: string,
  summary: string | null,
  contentHash?: string,
  change?: ChangeSummary,
): Promise<VerificationFeedback> {
  const verifiers = ctx.input.verifiers;
  ctx.state.verificationRounds += 1;
  ctx.setPhase('verifying', verifiers.length === 1 ? verifiers[0]! : null);
  ctx.syncSearchAttributes();
  const request = verificationRequestMessage(claimPath, summary, ctx.state.goal.objective, change ? changeView(ctx, change) : undefined);
  const verdicts = await Promise.all(verifiers.map((role) => verify(ctx, role, request)));
  for (const v of verdicts) {
    ctx.event('verdict', `${v.verdict}${v.reasons.length ? `: ${abbreviate(v.reasons.join('; '), 240)}` : ''}`, v.role);
  }
  const feedback = aggregateVerdicts(verdicts, contentHash);
  ctx.event('verification', `round ${ctx.state.verificationRounds}: overall ${feedback.overall}`);
  watchVerification(ctx, feedback); // docs/behaviour.md §3.7
  await rotate(ctx, verdicts);
  return feedback;
}

/** Verifiers that passed start the next round fresh; those that failed keep their objections. */
async function rotate(ctx: RunContext, verdicts: RoleVerdict[]): Promise<void> {
  const passed = verdicts.filter((v) => v.verdict === 'pass');
  for (const v of passed) {
    rotated(ctx.role(v.role));
  }
  if (passed.length > 0) await ctx.recordRoles();
}
