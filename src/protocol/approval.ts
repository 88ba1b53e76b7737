/**
 * Approvals (docs/behaviour.md §7.8): which tool calls wait for a person, what the wait looks like
 * to clients, and the requests that decide it. Pure: the workflow bundle imports it.
 */
import { z } from 'zod';
import type { McpToolInfo } from './mcp';
import { isMcpToolName } from './mcp';
import { isKnownSafeCommand } from './safeCommand';
import { parseToolArguments } from './toolArguments';

export const APPROVAL_POLICIES = ['never', 'on-request', 'untrusted'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

/** The shell argument a Codex model sends to ask for a command outside the sandbox (network access here). */
export const ESCALATION_REQUEST = 'require_escalated';

/** A denial's reason and a justification are cut to this many characters (they are recorded in history). */
export const MAX_APPROVAL_TEXT = 2_000;
/** How much of the command a pending approval shows. */
export const MAX_APPROVAL_COMMAND = 1_000;
/** Decided calls remembered per run, so a second decision is refused rather than "unknown". */
export const MAX_REMEMBERED_DECISIONS = 50;

/** Why a call waits: it asks for network access (escalation), or the policy is `untrusted` and it is not known to be read-only. */
export type ApprovalKind = 'escalation' | 'untrusted';

export interface PendingApproval {
  runId: string;
  callId: string;
  role: string;
  tool: string;
  kind: ApprovalKind;
  /** The command (argv joined) or the tool's arguments, abbreviated. */
  command: string;
  justification: string | null;
  requestedAt: string;
  /** When `--approval-timeout` denies it; null: it waits until someone decides. */
  expiresAt: string | null;
}

export type ApprovalVerdict = 'approved' | 'denied' | 'timed_out';

export interface ApprovalDecision {
  callId: string;
  tool: string;
  verdict: ApprovalVerdict;
  reason: string | null;
  decidedAt: string;
}

/** The approvals of a run as clients see them (progress query, memo `inftyApprovals`). */
export interface ApprovalsView {
  policy: ApprovalPolicy;
  /** `--approval-timeout` in seconds; null: a call waits until decided. */
  timeoutSecs: number | null;
  pending: PendingApproval[];
  /** The newest decisions, oldest first. */
  decided: ApprovalDecision[];
}

export const ApproveRequestSchema = z.object({ callId: z.string().min(1).optional() }).strict();
export const DenyRequestSchema = z
  .object({
    callId: z.string().min(1, 'deny needs the call id (see `infty approvals`)'),
    reason: z.string().trim().max(MAX_APPROVAL_TEXT, `the reason has at most ${MAX_APPROVAL_TEXT} characters`).optional(),
  })
  .strict();
export type ApproveRequest = z.infer<typeof ApproveRequestSchema>;
export type DenyRequest = z.infer<typeof DenyRequestSchema>;

/** What an approve or deny update decided. */
export interface ApprovalResult {
  runId: string;
  decided: ApprovalDecision[];
}

/** Memo field holding the run's pending approvals, so `infty approvals` lists them without a worker. */
export const APPROVALS_MEMO_KEY = 'inftyApprovals';

export interface ApprovalNeed {
  kind: ApprovalKind;
  command: string;
  justification: string | null;
}

/** The fields of a shell call that matter here; anything unparsable is left to the tool to refuse. */
interface ShellRequest {
  command?: unknown;
  sandbox_permissions?: unknown;
  justification?: unknown;
}

function parseShell(args: string): ShellRequest | null {
  const parsed = parseToolArguments(args);
  return parsed.ok ? (parsed.args as ShellRequest) : null;
}

export function requestsEscalation(args: { sandbox_permissions?: unknown }): boolean {
  return args.sandbox_permissions === ESCALATION_REQUEST;
}

function commandText(argv: unknown): string {
  if (!Array.isArray(argv)) return '';
  const words = argv.map((w) => (typeof w === 'string' ? w : JSON.stringify(w)));
  // bash -lc "script": the script is what a person reads.
  const shown = words.length === 3 && /^(ba|z)?sh$/.test(words[0]!) && /^-l?c$/.test(words[1]!) ? words[2]! : words.join(' ');
  return cut(shown, MAX_APPROVAL_COMMAND);
}

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Whether a call waits for a person under `policy`, and what they are shown. `never`: nothing waits
 * (an escalation request is refused by the shell tool). `on-request`: a shell call that asks for
 * escalation. `untrusted`: also every shell command outside the read-only safe list, and every MCP
 * tool not annotated `readOnlyHint`. A call whose arguments are too large for history
 * (`argumentsInTranscript`) cannot be shown, so under `untrusted` it waits as "not known safe".
 */
export function approvalNeeded(
  call: { name: string; arguments: string; argumentsInTranscript?: boolean },
  policy: ApprovalPolicy,
  mcpTools: readonly McpToolInfo[] | undefined,
): ApprovalNeed | null {
  if (policy === 'never') return null;
  if (call.name === 'shell') {
    if (call.argumentsInTranscript)
      return policy === 'untrusted' ? { kind: 'untrusted', command: '(arguments too large to show here; see the transcript)', justification: null } : null;
    const args = parseShell(call.arguments);
    if (!args) return null; // the tool answers with the parse error
    const justification = typeof args.justification === 'string' && args.justification.trim() ? cut(args.justification.trim(), MAX_APPROVAL_TEXT) : null;
    const command = commandText(args.command);
    if (requestsEscalation(args)) return { kind: 'escalation', command, justification };
    if (policy !== 'untrusted') return null;
    const argv = Array.isArray(args.command) && args.command.every((w) => typeof w === 'string') ? (args.command as string[]) : null;
    return argv && isKnownSafeCommand(argv) ? null : { kind: 'untrusted', command, justification };
  }
  if (policy === 'untrusted' && isMcpToolName(call.name)) {
    const tool = mcpTools?.find((t) => t.name === call.name);
    if (tool?.readOnly) return null;
    return {
      kind: 'untrusted',
      command: cut(call.argumentsInTranscript ? '(arguments too large to show here)' : call.arguments, MAX_APPROVAL_COMMAND),
      justification: null,
    };
  }
  return null;
}
