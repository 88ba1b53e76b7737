/**
 * Which calls wait for a person under each policy (docs/behaviour.md §7.8), what a follower says
 * about a waiting call, and the create flags that set the policy.
 */
import { describe, expect, it } from 'vitest';
import { parseApprovalTimeout } from '../../src/cli/approvalFlags';
import { runInputFromFlags } from '../../src/cli/flags';
import { holdNotice, waitOf } from '../../src/cli/follow';
import { forkInput } from '../../src/cli/fork';
import { approvalNeeded, MAX_APPROVAL_COMMAND, type PendingApproval } from '../../src/protocol/approval';
import type { McpToolInfo } from '../../src/protocol/mcp';
import type { Progress } from '../../src/protocol/progress';
import { RunInputSchema } from '../../src/protocol/runInput';
import { goalView, holdView, newGoal, pause } from '../../src/workflows/goal';

const shell = (args: Record<string, unknown>) => ({ name: 'shell', arguments: JSON.stringify(args) });
const ESCALATED = { command: ['bash', '-lc', 'npm install left-pad'], sandbox_permissions: 'require_escalated', justification: 'needs the registry' };
const MCP: McpToolInfo[] = [
  { name: 'mcp__fs__read', readOnly: true, idempotent: true },
  { name: 'mcp__fs__write', readOnly: false, idempotent: false },
];

describe('approvalNeeded', () => {
  it('never: nothing waits, not even an escalation (the shell tool refuses it)', () => {
    expect(approvalNeeded(shell(ESCALATED), 'never', MCP)).toBeNull();
    expect(approvalNeeded({ name: 'mcp__fs__write', arguments: '{}' }, 'never', MCP)).toBeNull();
  });

  it('on-request: only an escalation waits, shown as the script a person reads, with its justification', () => {
    expect(approvalNeeded(shell(ESCALATED), 'on-request', MCP)).toEqual({
      kind: 'escalation',
      command: 'npm install left-pad',
      justification: 'needs the registry',
    });
    expect(approvalNeeded(shell({ command: ['rm', '-rf', 'x'] }), 'on-request', MCP)).toBeNull();
    expect(approvalNeeded(shell({ command: ['rm'], sandbox_permissions: 'use_default' }), 'on-request', MCP)).toBeNull();
    expect(approvalNeeded({ name: 'mcp__fs__write', arguments: '{}' }, 'on-request', MCP)).toBeNull();
  });

  it('untrusted: commands off the safe list and MCP tools without readOnlyHint wait; the rest runs', () => {
    expect(approvalNeeded(shell({ command: ['ls', '-la'] }), 'untrusted', MCP)).toBeNull();
    expect(approvalNeeded(shell({ command: ['touch', 'x'] }), 'untrusted', MCP)).toMatchObject({ kind: 'untrusted', command: 'touch x' });
    expect(approvalNeeded(shell(ESCALATED), 'untrusted', MCP)).toMatchObject({ kind: 'escalation' });
    expect(approvalNeeded({ name: 'mcp__fs__read', arguments: '{}' }, 'untrusted', MCP)).toBeNull();
    expect(approvalNeeded({ name: 'mcp__fs__write', arguments: '{"p":1}' }, 'untrusted', MCP)).toEqual({
      kind: 'untrusted',
      command: '{"p":1}',
      justification: null,
    });
    expect(approvalNeeded({ name: 'mcp__gone__x', arguments: '{}' }, 'untrusted', MCP)).toMatchObject({ kind: 'untrusted' });
    for (const name of ['read_file', 'list_dir', 'apply_patch', 'update_plan']) expect(approvalNeeded({ name, arguments: '{}' }, 'untrusted', MCP)).toBeNull();
  });

  it('arguments too large for history: under untrusted the call waits (it cannot be shown safe); unparsable ones go to the tool', () => {
    expect(approvalNeeded({ name: 'shell', arguments: '', argumentsInTranscript: true }, 'untrusted', MCP)).toMatchObject({ kind: 'untrusted' });
    expect(approvalNeeded({ name: 'shell', arguments: '', argumentsInTranscript: true }, 'on-request', MCP)).toBeNull();
    expect(approvalNeeded({ name: 'shell', arguments: '{not json' }, 'untrusted', MCP)).toBeNull();
    expect(approvalNeeded({ name: 'shell', arguments: '[1]' }, 'on-request', MCP)).toBeNull();
  });

  it('a huge command or justification is cut for display', () => {
    const need = approvalNeeded(shell({ ...ESCALATED, command: ['echo', 'x'.repeat(100_000)], justification: 'y'.repeat(100_000) }), 'on-request', MCP)!;
    expect(need.command.length).toBeLessThanOrEqual(MAX_APPROVAL_COMMAND);
    expect(need.justification!.length).toBeLessThanOrEqual(2_000);
  });
});

describe('a follower and a waiting call', () => {
  const call: PendingApproval = {
    runId: 'r1',
    callId: 'call_1',
    role: 'solver',
    tool: 'shell',
    kind: 'escalation',
    command: 'npm install left-pad',
    justification: 'needs the registry',
    requestedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
  };
  const waiting = (g = newGoal('x', null, 0)): Progress =>
    ({
      runId: 'r1',
      status: 'running',
      phase: 'awaiting_approval',
      goal: goalView(g, 1),
      hold: holdView(g),
      approvals: { policy: 'on-request', pending: [call], decided: [] },
    }) as unknown as Progress;

  it('is a hold of kind approval, whose notice names the command, the reason and both commands', () => {
    const hold = waitOf(waiting())!;
    expect(hold).toMatchObject({ kind: 'approval', call });
    const text = holdNotice('r1', hold).join('\n');
    expect(text).toContain('run r1 waits for a person: shell call call_1 asks for network access:');
    expect(text).toContain('npm install left-pad');
    expect(text).toContain('why: needs the registry');
    expect(text).toContain('infty approve r1 call_1');
    expect(text).toContain('infty deny r1 call_1 --reason "…"');
  });

  it('a user pause while a call waits is shown as the pause (resume first)', () => {
    expect(waitOf(waiting(pause(newGoal('x', null, 0), 'paused by the user', 0, 'user')))).toMatchObject({ kind: 'user' });
  });
});

describe('--approval and --approval-timeout', () => {
  const flags = { objective: 'o', runId: 'r1' };
  it('set the run input; bad values and a timeout without a waiting policy are refused before anything starts', () => {
    expect(runInputFromFlags({ ...flags, approval: 'untrusted', approvalTimeout: '2h' })).toMatchObject({ approval: 'untrusted', approvalTimeoutSecs: 7200 });
    expect(() => runInputFromFlags({ ...flags, approval: 'always' })).toThrow(/--approval must be one of never, on-request, untrusted, got "always"/);
    expect(() => runInputFromFlags({ ...flags, approvalTimeout: '1h' })).toThrow(/goes with --approval on-request or untrusted/);
    expect(() => parseApprovalTimeout('90')).toThrow(/needs a unit: 90s, 90m or 90h/);
    expect(() => parseApprovalTimeout('soon')).toThrow(/at least 1 second/);
    expect(() => parseApprovalTimeout('500ms')).toThrow(/at least 1 second/);
    expect(parseApprovalTimeout('90s')).toBe(90);
    expect(parseApprovalTimeout('1d')).toBe(86_400);
  });

  it('the run input defaults to never and refuses an unknown policy', () => {
    expect(RunInputSchema.parse({ runId: 'r1', objective: 'o' }).approval).toBe('never');
    expect(RunInputSchema.safeParse({ runId: 'r1', objective: 'o', approval: 'sometimes' }).success).toBe(false);
  });
});

describe('a fork keeps the approval policy', () => {
  const source = (approvals: Progress['approvals']) =>
    ({ runId: 'src', objective: 'o', roles: { solver: { model: 'm' } }, sandbox: 'bwrap', owner: null, approvals }) as unknown as Progress;
  it('takes over the policy and its timeout; a source that never asks gives a fork that never asks', () => {
    expect(forkInput(source({ policy: 'untrusted', timeoutSecs: 600, pending: [], decided: [] }), 1, { runId: 'f1', atTurn: '1' })).toMatchObject({
      approval: 'untrusted',
      approvalTimeoutSecs: 600,
    });
    expect(forkInput(source({ policy: 'on-request', timeoutSecs: null, pending: [], decided: [] }), 1, { runId: 'f2', atTurn: '1' })).not.toHaveProperty(
      'approvalTimeoutSecs',
    );
    expect(forkInput(source({ policy: 'never', timeoutSecs: null, pending: [], decided: [] }), 1, { runId: 'f3', atTurn: '1' })).not.toHaveProperty('approval');
    expect(forkInput(source(undefined), 1, { runId: 'f4', atTurn: '1' })).not.toHaveProperty('approval');
  });
});
