/**
 * Records the replay fixture of a run with per-role reasoning effort and an objective changed
 * mid-run (issue 12; `objective-updated.json`). See histories.record.ts: never re-record an old
 * fixture; record into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories -- objective)
 * and add new histories under new names.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { addFile, deliver, say, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the objective-update fixture', () => {
  const rec = useRecorder();

  it('objective changed mid-run, with per-role reasoning effort', async () => {
    const gate: { open?: () => void } = {};
    let step = 0;
    rec.responder = async (req) => {
      if (req.role?.startsWith('verifier')) return verdict('pass');
      step += 1;
      if (step === 1) {
        await new Promise<void>((r) => (gate.open = r));
        return tools(shell('echo working'));
      }
      if (step === 2) return say('thinking'); // idle: a continuation (developer) message
      if (step === 3) return tools(addFile('deliverable/a.txt', ['a']));
      return deliver('deliverable/a.txt');
    };
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({
      runId,
      objective: 'Objective scenario',
      verifiers: ['verifier-alpha'],
      sandbox: 'none',
      reasoningEffort: 'low',
      solverReasoningEffort: 'high',
    });
    while (!gate.open) await new Promise((r) => setTimeout(r, 50));
    await rec.h.infty.setGoal(runId, { objective: 'Changed <objective>' }).catch(() => undefined);
    await rec.h.client.workflow
      .getHandle(runId)
      .executeUpdate('setGoal', { args: [{ objective: '' }] })
      .catch(() => undefined); // refused
    gate.open();
    await rec.h.infty.result(runId);
    await rec.save('objective-updated', runId);
  });
});
