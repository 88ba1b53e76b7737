/**
 * Fleet control: `infty pause|resume|cancel|budget --where QUERY` acts on every running run the
 * Temporal visibility query matches (docs/interface.md §1 "Fleet control"). The runs are listed
 * first (the same query), printed, confirmed above CONFIRM_ABOVE, then acted on: signals and
 * cancellation as one batch operation, budgets (an update) run by run (./batch).
 */
import { createInterface } from 'node:readline/promises';
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { InftyClient, RunListEntry } from '../client';
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import { GRPC, temporalStatusOf } from '../host/temporalErrors';
import { pauseSignal, resumeSignal } from '../protocol/names';
import { type ActedNote, type ActionResults, batch, forEachRun } from './batch';
import { withClient } from './embedded';
import { parseBudget } from './flags';
import { formatTokens } from './render';

/** More matching runs than this need `--yes` (or a "y" on a terminal). */
export const CONFIRM_ABOVE = 10;

export type FleetAction = 'pause' | 'resume' | 'cancel' | 'budget';

export interface FleetFlags {
  where?: string;
  yes?: boolean;
  json?: boolean;
}

/** The run id of a single-run command; --yes and --json belong to --where. */
export function singleRun(runId: string | undefined, flags: FleetFlags, command: string): string {
  if (flags.yes || flags.json) throw new UsageError(`--yes and --json go with --where (infty ${command} --where QUERY)`);
  if (runId === undefined) throw new UsageError(`infty ${command} needs a run id, or --where QUERY for every matching run`);
  return runId;
}

const DONE: Record<Exclude<FleetAction, 'budget'>, string> = { pause: 'paused', resume: 'resumed', cancel: 'cancellation requested for' };

/** `args`: the command's positional arguments (for budget, the tokens; no run id with --where). */
export async function fleet(config: InftyConfig, action: FleetAction, args: (string | undefined)[], flags: FleetFlags): Promise<number> {
  const query = (flags.where ?? '').trim();
  if (!query) throw new UsageError('--where needs a Temporal visibility query, e.g. --where "InftyGoalStatus = \'active\'"');
  const given = args.filter((a) => a !== undefined) as string[];
  if (given.length > (action === 'budget' ? 1 : 0)) throw new UsageError('give either a run id or --where, not both');
  let tokenBudget: number | null | undefined;
  if (action === 'budget') {
    if (given[0] === undefined) throw new UsageError('infty budget --where QUERY needs the tokens: a positive whole number, or "none"');
    tokenBudget = parseBudget(given[0], 'the budget');
  }
  // With --json, stdout carries only the document; the human lines go to stderr.
  const say = (line: string) => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  return withClient(config, async (infty) => {
    const matched = await infty.list(Number.POSITIVE_INFINITY, { where: query, running: true });
    const doc = (results: ActionResults) => ({ query, matched, action, ...(action === 'budget' ? { tokenBudget } : {}), results });
    if (matched.length === 0) {
      say('no runs match');
      if (flags.json) process.stdout.write(`${JSON.stringify(doc({ method: 'none', total: 0, succeeded: 0, failed: 0 }))}\n`);
      return 0;
    }
    say(`${action}: ${matched.length} running run${matched.length === 1 ? '' : 's'} match ${query}`);
    for (const r of matched) say(`  ${r.runId}  (${r.goalStatus ?? '-'}, ${r.tokensUsed === null ? '-' : formatTokens(r.tokensUsed)} tokens)`);
    if (matched.length > CONFIRM_ABOVE && !flags.yes && !(await confirmed(action, matched.length, flags))) {
      throw new UsageError(`not confirmed; nothing was changed`);
    }
    const results = await act(infty, action, matched, tokenBudget, query);
    for (const r of results.runs ?? []) {
      if (!r.ok) say(`  ${r.runId}: failed: ${r.error}`);
      else if (r.note) say(`  ${r.runId}: ${r.note}`);
    }
    const what = action === 'budget' ? `budget set to ${tokenBudget ?? 'none'} on` : DONE[action];
    say(
      `${what} ${results.succeeded} of ${results.total} run${results.total === 1 ? '' : 's'}` +
        (results.failed ? `; ${results.failed} failed` : '') +
        (results.jobId ? ` (Temporal batch operation ${results.jobId}${results.state === 'running' ? ', still running' : ''})` : ''),
    );
    if (flags.json) process.stdout.write(`${JSON.stringify(doc(results))}\n`);
    return results.failed > 0 || results.state === 'failed' ? 2 : 0;
  });
}

/** Above the threshold: a "y" on a terminal; without one (or with --json), a refusal that names --yes. */
async function confirmed(action: FleetAction, n: number, flags: FleetFlags): Promise<boolean> {
  if (flags.json || !process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(`${n} runs match (more than ${CONFIRM_ABOVE}); add --yes to ${action} them all (nothing was changed)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`Proceed with ${action} on ${n} runs? [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function act(
  infty: InftyClient,
  action: FleetAction,
  runs: RunListEntry[],
  tokenBudget: number | null | undefined,
  query: string,
): Promise<ActionResults> {
  const ids = runs.map((r) => r.runId);
  const reason = `infty ${action} --where ${query}`;
  switch (action) {
    case 'pause':
      return (await batch(infty, ids, { signal: pauseSignal.name }, reason)) ?? forEachRun(ids, (id) => unlessEnded(infty, id, () => infty.pause(id)));
    case 'resume':
      return (await batch(infty, ids, { signal: resumeSignal.name }, reason)) ?? forEachRun(ids, (id) => unlessEnded(infty, id, () => infty.resume(id)));
    case 'cancel':
      return (await batch(infty, ids, { cancel: true }, reason)) ?? forEachRun(ids, (id) => unlessEnded(infty, id, () => infty.cancel(id)));
    case 'budget':
      return forEachRun(ids, (id) => withinDeadline(infty, () => infty.setGoal(id, { tokenBudget: tokenBudget ?? null })));
  }
}

/**
 * Run by run, a run that ended between the listing and acting on it counts as done, as the batch
 * operation counts it (the server skips executions no longer running): there is nothing left to
 * pause, resume or cancel. Any other failure, or a run that is still running, stays a failure.
 */
async function unlessEnded(infty: InftyClient, runId: string, act: () => Promise<unknown>): Promise<ActedNote | undefined> {
  try {
    await act();
    return undefined;
  } catch (err) {
    const status = await infty.describe(runId).then(
      (d) => d.status.name,
      () => undefined,
    );
    if (status === undefined || status === 'RUNNING') throw err;
    return { note: `had already ended (${status.toLowerCase()}); counted as done` };
  }
}

/** How long one run's update may take: an update waits for a worker, and one stuck run must not hold up the rest. */
const UPDATE_DEADLINE_MS = 30_000;

async function withinDeadline<T>(infty: InftyClient, fn: () => Promise<T>): Promise<T> {
  try {
    return await infty.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, fn);
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || temporalStatusOf(err)?.code === GRPC.DEADLINE_EXCEEDED) {
      throw new Error(`no answer within ${UPDATE_DEADLINE_MS / 1000} s (is a worker running?); the change may still apply when one answers`);
    }
    throw err;
  }
}

/** The options of a command that takes a run id or --where. */
export function withFleetOptions<C extends { option(flags: string, description: string): C }>(cmd: C): C {
  return cmd
    .option('--where <query>', 'every running run this Temporal visibility query matches, e.g. "InftyGoalStatus = \'active\'"')
    .option('--yes', `with --where: act on more than ${CONFIRM_ABOVE} runs without asking`)
    .option('--json', 'with --where: print one JSON document {query, matched, action, results}');
}
