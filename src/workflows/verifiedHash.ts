/**
 * A pass is bound to what was verified (docs/behaviour.md §3.3): after a passing round the
 * deliverable is validated again, and a different content hash means a new round on the new
 * content instead of the delivery. Versioned: histories from before replay without the re-check.
 */
import type { DeliverableCheck } from '../protocol/deliverable';
import type { RunContext } from './context';
import { isPatched } from './patches';

type ValidCheck = Extract<DeliverableCheck, { ok: true }>;

/** The deliverable's check after a passing round on `judged`, when it changed since; undefined when unchanged. */
export async function changedSincePass(ctx: RunContext, claimed: string, judged: ValidCheck): Promise<DeliverableCheck | undefined> {
  if (!isPatched('verifiedHash')) return undefined;
  ctx.setPhase('validating', 'solver');
  const workdir = ctx.state.project?.workdir;
  const now = await ctx.activities.deliverable.validateDeliverable({ runDir: ctx.state.runDir, path: claimed, ...(workdir ? { workdir } : {}) });
  if (now.ok && now.contentHash === judged.contentHash) return undefined;
  const after = now.ok ? now.contentHash : `none (${now.reason})`;
  ctx.event('deliverable_changed', `${judged.relativePath} changed after verification passed: verified ${judged.contentHash}, now ${after}`);
  if (now.ok) return now;
  return { ok: false, reason: `the deliverable changed after verification passed: ${now.reason}` };
}

/** What the Solver hears when its deliverable changed after each of `rounds` passing rounds in a row. */
export function unstableDeliverableMessage(claimed: string, rounds: number): string {
  return (
    `Your final_delivery "${claimed}" was not accepted: it changed after each of ${rounds} passing verification rounds in a row, ` +
    'so no verified content could be delivered. Something keeps writing to it (a background process, a watcher): ' +
    'stop it, check the deliverable, and deliver again.'
  );
}
