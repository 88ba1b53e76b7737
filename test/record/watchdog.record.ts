/**
 * Records the replay fixtures of the convergence watchdog (docs/behaviour.md §3.7):
 * `watchdog-paused-resumed.json` (a failing command repeated: escalation to the Director, then a
 * pause, a resume and a delivery) and `watchdog-verification.json` (verification rounds failing for
 * the same reason: escalation, then a passing delivery). See histories.record.ts: never re-record
 * an old fixture; record into a scratch folder
 * (INFTY_RECORD_OUT=/tmp/x npx vitest run --config vitest.record.mts test/record/watchdog.record.ts)
 * and add new histories under new names.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, directive, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the convergence-watchdog fixtures', () => {
  const rec = useRecorder();

  it('a repeated failing command: escalation, pause, resume, delivery', async () => {
    const failing = () => tools(shell('exit 3'));
    rec.responder = scriptByRole({
      solver: [failing(), failing(), failing(), failing(), failing(), failing(), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
      director: [directive('Read the error before running it again.')],
    });
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({ runId, objective: 'Watchdog scenario', verifiers: [], sandbox: 'none' });
    while ((await rec.h.infty.goal(runId)).status !== 'paused') await new Promise((r) => setTimeout(r, 100));
    await rec.h.infty.resume(runId);
    await rec.h.infty.result(runId);
    await rec.save('watchdog-paused-resumed', runId);
  });

  it('verification rounds failing for the same reason: escalation, then a pass', async () => {
    rec.responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
        deliver('deliverable/a.txt'),
        deliver('deliverable/a.txt'),
        tools(addFile('deliverable/README.md', ['readme'])),
        deliver('deliverable'),
      ],
      director: [directive('Add the README.')],
      'verifier-alpha': [
        verdict('fail', ['Missing README (1)']),
        verdict('fail', ['missing readme (2)']),
        verdict('fail', ['Missing README (3).']),
        verdict('pass'),
      ],
    });
    const { runId } = await rec.h.run({ objective: 'Watchdog verification scenario', verifiers: ['verifier-alpha'], runId: uniqueId('rec') });
    await rec.save('watchdog-verification', runId);
  });
});
