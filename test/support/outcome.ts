/** Waiting for a run's outcome in tests that kill workers: a timeout says where the run is stuck. */
import type { InftyClient } from '../../src/client';
import type { RunOutcome } from '../../src/protocol/outcome';

/** The run's outcome, or (after `ms`) an error with its pending activities, goal and last events. */
export async function outcomeWithin(infty: InftyClient, runId: string, ms: number, extra: () => string = () => ''): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  const result = infty.result(runId);
  result.catch(() => undefined);
  const winner = await Promise.race([result, timeout]);
  clearTimeout(timer);
  if (winner !== 'timeout') return winner;
  let where = '';
  try {
    const d = await infty.handle(runId).describe();
    where += `pending activities: ${JSON.stringify(
      (d.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, lastFailure: a.lastFailure?.message })),
    )}\n`;
    const p = await infty.progress(runId);
    where += `phase ${p.phase}, goal ${p.goal.status} (${p.goal.statusReason ?? ''}); last events:\n${p.events
      .slice(-12)
      .map((e) => `  ${e.kind} ${e.role ?? ''} ${e.message}`)
      .join('\n')}\n`;
  } catch (err) {
    where += `(could not inspect: ${(err as Error).message})\n`;
  }
  throw new Error(`run ${runId} did not end within ${ms / 1000} s\n${where}${extra()}`);
}
