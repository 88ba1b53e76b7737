/** Command-line values: whole numbers, budgets, and the flags of `infty run` / `infty create`. */
import { UsageError } from '../errors';
import { defaultRunId, runIdError } from '../protocol/runId';
import { isReasoningEffort, reasoningEffortError, type ReasoningEffort } from '../protocol/reasoning';
import type { RunInputRaw } from '../protocol/runInput';

export interface CreateFlags {
  objective?: string;
  runId?: string;
  verifier?: string[];
  verifiers?: boolean;
  tokenBudget?: string;
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
  passEnv?: string[];
  detach?: boolean;
  json?: boolean;
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
  return parsePositiveInt(value, flag);
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

export function runInputFromFlags(flags: CreateFlags, now = new Date()): RunInputRaw {
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
  if (flags.passEnv?.length) {
    const bad = flags.passEnv.filter((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    if (bad.length) throw new UsageError(`--pass-env takes environment variable names (letters, digits, "_"), got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
    input.passEnv = flags.passEnv;
  }
  return input;
}
