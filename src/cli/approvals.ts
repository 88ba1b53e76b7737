/** `infty approvals`, `infty approve`, `infty deny` (docs/interface.md §1 "Approvals"). */
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import type { ApprovalResult, PendingApproval } from '../protocol/approval';
import { withClient } from './embedded';

/** One pending call, as `infty approvals` prints it. */
export function formatPending(p: PendingApproval, now = Date.now()): string {
  const waited = Math.max(0, Math.round((now - Date.parse(p.requestedAt)) / 1000));
  const why = p.kind === 'escalation' ? 'asks for network access' : 'not known to be read-only';
  const lines = [
    `${p.runId}  ${p.callId}  ${p.tool} (${why}), waiting ${waited}s${p.expiresAt ? `, denied at ${p.expiresAt} if nobody answers` : ''}`,
    `    ${p.command}`,
  ];
  if (p.justification) lines.push(`    why: ${p.justification}`);
  lines.push(`    infty approve ${p.runId} ${p.callId}   |   infty deny ${p.runId} ${p.callId} --reason "…"`);
  return lines.join('\n');
}

export async function listApprovals(config: InftyConfig, flags: { where?: string; json?: boolean }): Promise<number> {
  return withClient(config, async (infty) => {
    const pending = await infty.pendingApprovals(flags.where);
    if (flags.json) process.stdout.write(`${JSON.stringify(pending)}\n`);
    else process.stdout.write(pending.length ? `${pending.map((p) => formatPending(p)).join('\n')}\n` : 'nothing waits for approval\n');
    return 0;
  });
}

function report(result: ApprovalResult): string {
  return result.decided.map((d) => `${d.verdict} ${result.runId} ${d.callId} (${d.tool})${d.reason ? `: ${d.reason}` : ''}`).join('\n');
}

export async function approve(config: InftyConfig, runId: string, callId: string | undefined): Promise<number> {
  return withClient(config, async (infty) => {
    process.stdout.write(`${report(await infty.approve(runId, callId))}\n`);
    return 0;
  });
}

export async function deny(config: InftyConfig, runId: string, callId: string, reason: string | undefined): Promise<number> {
  if (reason !== undefined && !reason.trim()) throw new UsageError('--reason is empty; leave it out, or say why the call is denied');
  return withClient(config, async (infty) => {
    process.stdout.write(`${report(await infty.deny(runId, callId, reason))}\n`);
    return 0;
  });
}
