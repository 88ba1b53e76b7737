/**
 * Records the replay fixtures of where the goal meets the watchdog (docs/behaviour.md §3.8):
 * a budget-limited Solver that is not converging ends budget_exhausted (`budget-over-watchdog`,
 * `budget-watchdog-exhausted.json`); an invalid Director reply to a watchdog escalation holds the
 * run, which is resumed and delivers (`watchdog-director-failure-holds`,
 * `watchdog-director-invalid-held.json`); a new objective restarts the watchdog
 * (`objective-restarts-watchdog`, `objective-restarts-watchdog.json`). See histories.record.ts:
 * never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, directive, say, shell, tools, withUsage } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the goal-edge fixtures', () => {
  const rec = useRecorder();

  it('budget over watchdog', async () => {
    const usage = { inputTokens: 200, outputTokens: 50 };
    rec.responder = (req) => (req.role === 'director' ? withUsage(directive('Stop listing.'), usage) : withUsage(tools(shell('ls')), usage));
    const { runId } = await rec.h.run({
      objective: 'Budget over watchdog',
      verifiers: [],
      tokenBudget: 1000,
      budgetGraceModelCalls: 40,
      runId: uniqueId('rec'),
    });
    await rec.save('budget-watchdog-exhausted', runId);
  });

  it('an invalid Director reply to a watchdog escalation holds the run', async () => {
    const runId = uniqueId('rec');
    rec.responder = scriptByRole({
      solver: [
        tools(shell('exit 3')),
        tools(shell('exit 3')),
        tools(shell('exit 3')),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
      director: [say('I am not sure.'), say('Still not sure.')],
    });
    await rec.h.infty.startRun({ runId, objective: 'Director failure holds', verifiers: [], sandbox: 'none' });
    for (;;) {
      const g = await rec.h.infty.goal(runId);
      if (g.status === 'paused') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await rec.h.infty.resume(runId);
    await rec.h.infty.result(runId);
    await rec.save('watchdog-director-invalid-held', runId);
  });

  it('a new objective restarts the watchdog', async () => {
    const runId = uniqueId('rec');
    rec.responder = scriptByRole({
      solver: [
        tools(shell('exit 3')),
        tools(shell('exit 3')),
        async () => {
          await rec.h.infty.setGoal(runId, { objective: 'A different objective' });
          return tools(shell('exit 3'));
        },
        tools(shell('exit 3')),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    await rec.h.run({ objective: 'Objective restarts watchdog', verifiers: [], runId });
    await rec.save('objective-restarts-watchdog', runId);
  });
});
