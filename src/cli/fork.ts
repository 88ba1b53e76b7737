/** `infty fork RUN --at-turn K`: a new run from a run's transcripts and files as of a Solver turn (docs/interface.md). */
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import type { Progress } from '../protocol/progress';
import { defaultRunId, runIdError } from '../protocol/runId';
import type { RunInputRaw } from '../protocol/runInput';
import { withClient } from './embedded';
import { parseBudget, parsePositiveInt } from './flags';
import { startRun } from './start';

export interface ForkFlags {
  atTurn: string;
  runId?: string;
  model?: string;
  tokenBudget?: string;
  objective?: string;
  detach?: boolean;
  json?: boolean;
}

/** The source's roles, models, MCP servers and approval policy carry over; --model replaces every role's model. */
export function forkInput(source: Progress, turn: number, flags: ForkFlags, now = new Date()): RunInputRaw {
  const runId = flags.runId ?? defaultRunId(now);
  const idError = runIdError(runId);
  if (idError) throw new UsageError(idError);
  const objective = flags.objective?.trim() || source.objective;
  const verifiers = Object.keys(source.roles).filter((r) => r.startsWith('verifier'));
  const modelOf = (role: string) => flags.model ?? source.roles[role]?.model;
  const verifierModel = verifiers.length ? modelOf(verifiers[0]!) : undefined;
  const input: RunInputRaw = {
    runId,
    objective,
    verifiers,
    sandbox: source.sandbox === 'none' ? 'none' : 'auto',
    forkOf: { runId: source.runId, turn, owner: source.owner ?? null },
  };
  if (modelOf('solver')) input.solverModel = modelOf('solver');
  if (modelOf('director')) input.directorModel = modelOf('director');
  if (verifierModel) input.verifierModel = verifierModel;
  if (flags.tokenBudget !== undefined) input.tokenBudget = parseBudget(flags.tokenBudget);
  // The same servers; the fork lists their tools again at its own start (docs/behaviour.md §7.6).
  if (source.mcpServers?.length) input.mcpServers = source.mcpServers;
  // The same say for the user (docs/behaviour.md §7.8): a fork does not run unasked what its source would have asked.
  if (source.approvals && source.approvals.policy !== 'never') {
    input.approval = source.approvals.policy;
    if (source.approvals.timeoutSecs != null) input.approvalTimeoutSecs = source.approvals.timeoutSecs;
  }
  return input;
}

export async function fork(config: InftyConfig, sourceId: string, flags: ForkFlags): Promise<number> {
  const turn = parsePositiveInt(flags.atTurn, '--at-turn');
  const source = await withClient(config, async (infty) => {
    await infty.describe(sourceId);
    return infty.liveProgress(sourceId, 10_000).catch((err: unknown) => {
      throw new Error(`cannot read the progress of run "${sourceId}" (is a worker running?): ${(err as Error).message}`);
    });
  });
  const turns = source.roles.solver?.turns ?? 0;
  if (turn > turns) {
    throw new UsageError(`--at-turn must be between 1 and ${turns}: run "${sourceId}" has completed ${turns} Solver turn(s) (nothing was started)`);
  }
  return startRun(config, forkInput(source, turn, flags), { detach: flags.detach, json: flags.json });
}
