/**
 * Records the replay fixture of a run whose goal lives in the memo too (`goal-memo` patch,
 * docs/architecture.md decision 15): budget changed, paused and resumed by the user, delivered
 * (`goal-memo-paused-resumed.json`). See histories.record.ts: never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { gatedSolver } from '../support/gatedSolver';
import { uniqueId } from '../support/harness';
import { addFile, deliver, tools } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the goal-memo fixture', () => {
  const rec = useRecorder();

  it('budget changed, paused, resumed, delivered', async () => {
    const solver = gatedSolver([tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')]);
    rec.responder = solver.responder;
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({ runId, objective: 'Goal memo scenario', verifiers: ['verifier-alpha'], sandbox: 'none', tokenBudget: 500_000 });
    while (!solver.waiting()) await new Promise((r) => setTimeout(r, 50));
    await rec.h.infty.setGoal(runId, { tokenBudget: 900_000 });
    await rec.h.infty.setGoal(runId, { status: 'paused' });
    solver.open();
    await new Promise((r) => setTimeout(r, 500));
    await rec.h.infty.setGoal(runId, { status: 'active' });
    await rec.h.infty.result(runId);
    await rec.save('goal-memo-paused-resumed', runId);
  });
});
