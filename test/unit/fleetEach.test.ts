/** Fleet control run by run (src/cli/batch.ts forEachRun; docs/interface.md §1 "Fleet control"). */
import { describe, expect, it } from 'vitest';
import { EACH_CONCURRENCY, forEachRun } from '../../src/cli/batch';

describe('forEachRun', () => {
  it('acts on every run with bounded concurrency and reports each failure with its reason, in order', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    let inFlight = 0;
    let most = 0;
    const results = await forEachRun(ids, async (id) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      if (id === 'r3' || id === 'r17') throw new Error(`run "${id}" is not running (completed)`);
    });
    expect(most).toBe(EACH_CONCURRENCY);
    expect(results).toMatchObject({ method: 'each', total: 20, succeeded: 18, failed: 2 });
    expect(results.runs!.map((r) => r.runId)).toEqual(ids);
    expect(results.runs!.filter((r) => !r.ok)).toEqual([
      { runId: 'r3', ok: false, error: 'run "r3" is not running (completed)' },
      { runId: 'r17', ok: false, error: 'run "r17" is not running (completed)' },
    ]);
  });

  it("passes an action's note on with its success (a run that had already ended)", async () => {
    const results = await forEachRun(['a', 'b'], async (id) => (id === 'b' ? { note: 'had already ended (completed); counted as done' } : { tokenBudget: 5 }));
    expect(results).toMatchObject({ method: 'each', total: 2, succeeded: 2, failed: 0 });
    expect(results.runs).toEqual([
      { runId: 'a', ok: true },
      { runId: 'b', ok: true, note: 'had already ended (completed); counted as done' },
    ]);
  });
});
