/** Turn snapshots and forks in the workflow (docs/architecture.md decision 13). Deterministic: the files are the activities'. */
import { ActivityFailure, isCancellation } from '@temporalio/workflow';
import type { NewItem, RolePositions } from '../protocol/activities';
import { userMessage } from '../protocol/items';
import type { RunContext } from './context';
import { isPatched } from './patches';
import { adopted } from './roleLedger';

/**
 * After a Solver turn: the run directory's files and where every role stands, for later forks.
 * A failed snapshot is an event, not a failure of the run (the fork at that turn is then refused).
 * Versioned: histories from before snapshots replay unchanged.
 */
export async function snapshotTurn(ctx: RunContext): Promise<void> {
  if (!isPatched('turnSnapshots') || !ctx.state.runDir) return;
  const turn = ctx.role('solver').stats.turns;
  const roles: RolePositions = {};
  for (const [role, r] of Object.entries(ctx.state.roles)) roles[role] = { generation: r.generation, committedLength: r.committedLength };
  try {
    await ctx.activities.snapshots.snapshotTurn({ runId: ctx.input.runId, runDir: ctx.state.runDir, turn, roles });
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    ctx.event('snapshot_failed', `no snapshot of Solver turn ${turn}: ${err.cause?.message ?? err.message}`, 'solver');
  }
}

/** A fork's roles continue where the source's stood at the fork turn. */
export function adoptForkPositions(ctx: RunContext, positions: RolePositions): void {
  for (const [role, p] of Object.entries(positions)) {
    adopted(ctx.role(role), p);
  }
}

/** The Solver's first message in a fork: where it is and what the objective is. */
export function forkOpening(ctx: RunContext): NewItem {
  const f = ctx.input.forkOf!;
  return userMessage(
    `This conversation continues in a new run, "${ctx.input.runId}", forked from run "${f.runId}" after your turn ${f.turn}. ` +
      `The files are as they were then. The objective:\n\n${ctx.state.goal.objective}`,
  );
}
