/**
 * The tests' harness whose scripted model answers per run (`usePerRunHarness`, test/support/harness.ts):
 * a run's requests get its own script, and a run without one is answered by nothing else — its
 * request fails with a message naming the run, which is what a test author sees in the held run.
 */
import { describe, expect, it } from 'vitest';
import { uniqueId, usePerRunHarness } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';
import { until } from './support/wait';

describe('a harness whose scripted model answers per run', () => {
  const t = usePerRunHarness();

  it("a run gets its own script; a run without one is held with the model's error naming it", async () => {
    const scripted = uniqueId('per-run-scripted');
    t.scripts.set(scripted, scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] }));
    expect((await t.h.run({ runId: scripted, objective: 'Write a.txt', verifiers: [] })).outcome.status).toBe('delivered');

    const unscripted = uniqueId('per-run-unscripted');
    // One attempt per model call: the first failed request holds the run with its error.
    await t.h.infty.startRun({ runId: unscripted, objective: 'Write a.txt', verifiers: [], sandbox: 'none', modelMaxAttempts: 1 });
    try {
      const held = await until(
        'the run without a script to end or be held',
        async () => {
          if ((await t.h.infty.describe(unscripted)).status.name !== 'RUNNING') return { ended: await t.h.infty.result(unscripted) };
          const goal = await t.h.infty.goal(unscripted);
          return goal.status === 'paused' ? goal : undefined;
        },
        60_000,
      );
      expect(held).toMatchObject({ status: 'paused', statusReason: expect.stringContaining(`no model script for run ${unscripted};`) });
      expect(t.h.model.requests.filter((q) => q.runId === unscripted).map((q) => q.fault)).toEqual(['responder_error']);
    } finally {
      await t.h.client.workflow.getHandle(unscripted).terminate('harnessPerRun test done');
    }
  });
});
