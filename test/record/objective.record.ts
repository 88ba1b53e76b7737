/**
 * Records the replay fixture of a run with per-role reasoning effort and an objective changed
 * mid-run (issue 12; `objective-updated.json`). See histories.record.ts: never re-record an old
 * fixture; record into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories -- objective)
 * and add new histories under new names.
 */
import { describe, it } from 'vitest';
import { gatedSolver } from '../support/gatedSolver';
import { uniqueId } from '../support/harness';
import { addFile, deliver, say, tools } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the objective-update fixture', () => {
  const rec = useRecorder();

  it('objective changed mid-run, with per-role reasoning effort', async () => {
    const solver = gatedSolver([say('thinking'), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')]);
    rec.responder = solver.responder;
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({
      runId,
      objective: 'Objective scenario',
      verifiers: ['verifier-alpha'],
      sandbox: 'none',
      reasoningEffort: 'low',
      solverReasoningEffort: 'high',
    });
    while (!solver.waiting()) await new Promise((r) => setTimeout(r, 50));
    await rec.h.infty.setGoal(runId, { objective: 'Changed <objective>' }).catch(() => undefined);
    await rec.h.client.workflow
      .getHandle(runId)
      .executeUpdate('setGoal', { args: [{ objective: '' }] })
      .catch(() => undefined); // refused
    solver.open();
    await rec.h.infty.result(runId);
    await rec.save('objective-updated', runId);
  });
});
