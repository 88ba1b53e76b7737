/** Command-line values: whole numbers, budgets, and the flags of `infty run` / `infty create`. */

import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { UsageError } from '../errors';
import { COST_BUDGET_RULE, CostBudgetSchema, TOKEN_BUDGET_RULE, TokenBudgetSchema } from '../protocol/goal';
import { DELIVER_MODES, type DeliverMode, type ProjectSource, splitGitSource } from '../protocol/project';
import { isReasoningEffort, type ReasoningEffort, reasoningEffortError } from '../protocol/reasoning';
import { defaultRunId, runIdError } from '../protocol/runId';
import type { RunInputRaw } from '../protocol/runInput';
import { parseApproval, parseApprovalTimeout } from './approvalFlags';
import { mcpServersFrom } from './mcpFlags';

export interface CreateFlags {
  objective?: string;
  runId?: string;
  verifier?: string[];
  verifiers?: boolean;
  tokenBudget?: string;
  costBudget?: string;
  model?: string;
  solverModel?: string;
  directorModel?: string;
  verifierModel?: string;
  reasoningEffort?: string;
  solverReasoningEffort?: string;
  directorReasoningEffort?: string;
  verifierReasoningEffort?: string;
  directorTimeoutSecs?: string;
  verifierTimeoutSecs?: string;
  sandbox?: string;
  network?: string;
  passEnv?: string[];
  /** `--mcp NAME=COMMAND [ARGS…]` / `--mcp NAME=URL` (repeatable). */
  mcp?: string[];
  /** false: `--no-mcp-config`, ignore $INFTY_HOME/mcp.json. */
  mcpConfig?: boolean;
  from?: string;
  fromGit?: string;
  deliver?: string;
  projectDocs?: boolean;
  /** `--approval never|on-request|untrusted` and `--approval-timeout DURATION` (docs/behaviour.md §7.8). */
  approval?: string;
  approvalTimeout?: string;
  detach?: boolean;
  json?: boolean;
  /** Stop following and exit 4 when the run is held (implemented in the follow loop). */
  exitOnHold?: boolean;
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return n;
}

export function parseBudget(value: string, flag = '--token-budget'): number | null {
  if (value.trim().toLowerCase() === 'none') return null;
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!TokenBudgetSchema.safeParse(n).success) throw new UsageError(`${flag} ${TOKEN_BUDGET_RULE}; got "${value}"`);
  return n;
}

/** `--cost-budget USD`: a positive number of US dollars (`5`, `0.25`, `$1.50`), or "none". */
export function parseCostBudget(value: string, flag = '--cost-budget'): number | null {
  const v = value.trim().replace(/^\$/, '');
  if (v.toLowerCase() === 'none') return null;
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!CostBudgetSchema.safeParse(n).success) throw new UsageError(`${flag} ${COST_BUDGET_RULE}; got "${value}" (nothing was started)`);
  return n;
}

/** `--network on|off` → allowNetwork (network inside the bubblewrap sandbox). */
export function parseNetwork(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`--network must be "on" or "off" (network inside the shell sandbox), got "${value}" (nothing was started)`);
}

export function parseReasoningEffort(value: string, flag: string): ReasoningEffort {
  if (!isReasoningEffort(value)) throw new UsageError(`${reasoningEffortError(flag, value)} (nothing was started)`);
  return value;
}

/** Create flags → reasoning-effort input fields. */
const EFFORT_FLAGS = [
  ['reasoningEffort', '--reasoning-effort'],
  ['solverReasoningEffort', '--solver-reasoning-effort'],
  ['directorReasoningEffort', '--director-reasoning-effort'],
  ['verifierReasoningEffort', '--verifier-reasoning-effort'],
] as const;

/** `home`: where `mcp.json` is read ($INFTY_HOME); absent: no config file. */
export function runInputFromFlags(flags: CreateFlags, now = new Date(), home?: string): RunInputRaw {
  const objective = flags.objective?.trim();
  if (!objective) throw new UsageError('an objective is required: infty run "<objective>" or infty create --objective TEXT');
  const runId = flags.runId ?? defaultRunId(now);
  const idError = runIdError(runId);
  if (idError) throw new UsageError(idError);
  if (flags.sandbox !== undefined && flags.sandbox !== 'auto' && flags.sandbox !== 'none') {
    throw new UsageError(`--sandbox must be "auto" or "none", got "${flags.sandbox}"`);
  }
  const input: RunInputRaw = { runId, objective };
  if (flags.verifiers === false) {
    if (flags.verifier?.length) throw new UsageError('--no-verifiers and --verifier cannot be combined');
    input.verifiers = [];
  } else if (flags.verifier?.length) {
    input.verifiers = flags.verifier.map((v) => (v.startsWith('verifier') ? v : `verifier-${v}`));
  }
  if (flags.tokenBudget !== undefined) input.tokenBudget = parseBudget(flags.tokenBudget);
  if (flags.costBudget !== undefined) input.costBudgetUsd = parseCostBudget(flags.costBudget);
  if (flags.model) input.model = flags.model;
  if (flags.solverModel) input.solverModel = flags.solverModel;
  if (flags.directorModel) input.directorModel = flags.directorModel;
  if (flags.verifierModel) input.verifierModel = flags.verifierModel;
  for (const [field, flag] of EFFORT_FLAGS) {
    const value = flags[field];
    if (value !== undefined) input[field] = parseReasoningEffort(value, flag);
  }
  if (flags.directorTimeoutSecs) input.directorTimeoutSecs = parsePositiveInt(flags.directorTimeoutSecs, '--director-timeout-secs');
  if (flags.verifierTimeoutSecs) input.verifierTimeoutSecs = parsePositiveInt(flags.verifierTimeoutSecs, '--verifier-timeout-secs');
  if (flags.sandbox) input.sandbox = flags.sandbox as 'auto' | 'none';
  if (flags.network !== undefined) input.allowNetwork = parseNetwork(flags.network);
  if (flags.passEnv?.length) {
    const bad = flags.passEnv.filter((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    if (bad.length)
      throw new UsageError(`--pass-env takes environment variable names (letters, digits, "_"), got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    input.passEnv = flags.passEnv;
  }
  const project = projectFromFlags(flags);
  if (project) input.project = project;
  if (flags.projectDocs === false) input.projectDocs = false;
  const mcpServers = mcpServersFrom(flags.mcp, home, flags.mcpConfig !== false);
  if (mcpServers) input.mcpServers = mcpServers;
  if (flags.approval !== undefined) input.approval = parseApproval(flags.approval);
  if (flags.approvalTimeout !== undefined) {
    if ((input.approval ?? 'never') === 'never')
      throw new UsageError('--approval-timeout goes with --approval on-request or untrusted: with the default "never" nothing waits (nothing was started)');
    input.approvalTimeoutSecs = parseApprovalTimeout(flags.approvalTimeout);
  }
  return input;
}

/**
 * `--from PATH` / `--from-git URL[#REF]` / `--deliver` → the run's project (docs/behaviour.md §4.4).
 * A path is checked here, where it was typed; the worker that owns the run checks it again.
 */
function projectFromFlags(flags: CreateFlags): ProjectSource | undefined {
  if (flags.deliver !== undefined && !(DELIVER_MODES as readonly string[]).includes(flags.deliver)) {
    throw new UsageError(`--deliver must be ${DELIVER_MODES.map((m) => `"${m}"`).join(' or ')}, got "${flags.deliver}" (nothing was started)`);
  }
  const deliver = (flags.deliver ?? 'path') as DeliverMode;
  if (flags.from !== undefined && flags.fromGit !== undefined)
    throw new UsageError('--from and --from-git cannot be combined: start from a directory or from a repository (nothing was started)');
  if (flags.from !== undefined) return { path: checkedProjectPath(flags.from), host: hostname(), deliver };
  if (flags.fromGit !== undefined) {
    const { url, ref } = splitGitSource(flags.fromGit.trim());
    if (!url) throw new UsageError('--from-git needs a repository URL, e.g. --from-git https://example.com/repo.git#v1.2 (nothing was started)');
    return { gitUrl: url, ...(ref ? { ref } : {}), deliver };
  }
  if (flags.deliver !== undefined)
    throw new UsageError('--deliver goes with --from or --from-git: only a project run has a change to deliver (nothing was started)');
  return undefined;
}

function checkedProjectPath(given: string): string {
  const abs = resolve(given);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new UsageError(`--from ${given}: no such directory (${abs}); give the project's directory (nothing was started)`);
  }
  if (!statSync(real).isDirectory())
    throw new UsageError(`--from ${given}: not a directory; give the project's directory, not a file in it (nothing was started)`);
  try {
    accessSync(real, constants.R_OK | constants.X_OK);
  } catch {
    throw new UsageError(`--from ${given}: the directory cannot be read (permission denied) (nothing was started)`);
  }
  return real;
}
