/**
 * Records the replay fixture of a run whose goal lives in the memo too (`goal-memo` patch,
 * docs/architecture.md decision 15): budget changed, paused and resumed by the user, delivered
 * (`goal-memo-paused-resumed.json`). See histories.record.ts: never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { addFile, deliver, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the goal-memo fixture', () => {
  const rec = useRecorder();

  it('budget changed, paused, resumed, delivered', async () => {
    const gate: { open?: () => void } = {};
    let step = 0;
    rec.responder = async (req) => {
      if (req.role?.startsWith('verifier')) return verdict('pass');
      step += 1;
      if (step === 1) {
        await new Promise<void>((r) => (gate.open = r));
        return tools(shell('echo working'));
      }
      if (step === 2) return tools(addFile('deliverable/a.txt', ['a']));
      return deliver('deliverable/a.txt');
    };
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({ runId, objective: 'Goal memo scenario', verifiers: ['verifier-alpha'], sandbox: 'none', tokenBudget: 500_000 });
    while (!gate.open) await new Promise((r) => setTimeout(r, 50));
    await rec.h.infty.setGoal(runId, { tokenBudget: 900_000 });
    await rec.h.infty.setGoal(runId, { status: 'paused' });
    gate.open();
    await new Promise((r) => setTimeout(r, 500));
    await rec.h.infty.setGoal(runId, { status: 'active' });
    await rec.h.infty.result(runId);
    await rec.save('goal-memo-paused-resumed', runId);
  });
});
