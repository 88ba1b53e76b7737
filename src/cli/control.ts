/** `infty pause|resume|budget|steer|cancel`. */
import type { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import { formatUsd } from '../protocol/goal';
import { withClient } from './embedded';
import { parseBudget, parseCostBudget } from './flags';
import { formatGoal, formatOutcome } from './render';

export async function setStatus(config: InftyConfig, runId: string, status: 'active' | 'paused'): Promise<number> {
  return withClient(config, async (infty) => {
    const g = await infty.setGoal(runId, { status });
    process.stdout.write(`${status === 'paused' ? 'paused' : 'resumed'} ${runId}\n${formatGoal(g)}\n`);
    return 0;
  });
}

export async function budget(config: InftyConfig, runId: string, value: string, opts: { cost?: boolean } = {}): Promise<number> {
  if (opts.cost) {
    const costBudgetUsd = parseCostBudget(value, 'the cost budget');
    return withClient(config, async (infty) => {
      if (costBudgetUsd !== null) await refuseUnpricedRoles(config, infty, runId);
      const g = await infty.setGoal(runId, { costBudgetUsd });
      process.stdout.write(`cost budget of ${runId} set to ${costBudgetUsd === null ? 'none' : formatUsd(costBudgetUsd)}\n${formatGoal(g)}\n`);
      return 0;
    });
  }
  const tokenBudget = parseBudget(value, 'the budget');
  return withClient(config, async (infty) => {
    const g = await infty.setGoal(runId, { tokenBudget });
    process.stdout.write(`budget of ${runId} set to ${tokenBudget ?? 'none'}\n${formatGoal(g)}\n`);
    return 0;
  });
}

/** A cost budget needs every role's model priced (as for `--cost-budget`): exit 2 and nothing changed otherwise. */
async function refuseUnpricedRoles(config: InftyConfig, infty: InftyClient, runId: string): Promise<void> {
  const { loadPrices, priceKnown } = require('../host/prices') as typeof import('../host/prices');
  const table = loadPrices(config.pricesFile);
  const progress = await infty.progress(runId);
  const unpriced = Object.entries(progress.roles).filter(([, s]) => !priceKnown(s.model, table));
  if (unpriced.length) {
    throw new UsageError(
      `a cost budget needs a known price for every role's model; price unknown for ${unpriced.map(([role, s]) => `"${s.model}" (${role})`).join(', ')}. Add it to the INFTY_PRICES file (docs/interface.md §4) (nothing was changed)`,
    );
  }
}

export async function steer(config: InftyConfig, runId: string, message: string): Promise<number> {
  return withClient(config, async (infty) => {
    await infty.steer(runId, message);
    process.stdout.write(`queued for the Solver's next turn of ${runId}\n`);
    return 0;
  });
}

export async function cancel(config: InftyConfig, runId: string): Promise<number> {
  return withClient(config, async (infty) => {
    await infty.cancel(runId);
    process.stdout.write(`cancellation requested for ${runId}\n`);
    const outcome = await Promise.race([infty.result(runId), new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
    process.stdout.write(outcome ? `${formatOutcome(outcome)}\n` : 'the run has not finished cancelling yet (is a worker running?)\n');
    return 0;
  });
}
