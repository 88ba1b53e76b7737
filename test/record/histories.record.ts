/**
 * Runs the main scenarios on a real server and saves their histories as replay fixtures
 * (test/fixtures/histories). Never re-record an old fixture: after a deliberate, versioned
 * workflow change, record into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories)
 * and add the new histories under new names beside the old ones.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, askDirection, deliver, directive, say, shell, tools, verdict, withUsage } from '../support/replies';
import { useRecorder } from './recorder';

describe('record replay fixtures', () => {
  const rec = useRecorder();

  it('delivered after direction, a failed verification and a fix', async () => {
    rec.responder = scriptByRole({
      solver: [
        tools({ name: 'update_plan', arguments: { plan: [{ step: 'write', status: 'in_progress' }] } }, addFile('artifacts/a.txt', ['a'])),
        askDirection('Which format?'),
        tools(addFile('deliverable/out.txt', ['v1']), shell('echo hi')),
        deliver('deliverable'),
        tools(shell('echo v2 > deliverable/out.txt')),
        deliver('deliverable/out.txt', 'fixed'),
      ],
      director: [directive('Plain text.', 'simple')],
      'verifier-alpha': [verdict('pass'), verdict('pass')],
      'verifier-beta': [tools({ name: 'read_file', arguments: { path: 'deliverable/out.txt' } }), verdict('fail', ['says v1']), verdict('pass')],
    });
    const { runId } = await rec.h.run({ objective: 'Routing scenario', verifiers: ['verifier-alpha', 'verifier-beta'], runId: uniqueId('rec') });
    await rec.save('delivered', runId);
  });

  it('idle, finalization, stalled pause, steer and resume', async () => {
    rec.responder = scriptByRole({ solver: [say('hmm'), say('hmm'), say('hmm'), tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] });
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({ runId, objective: 'Idle scenario', verifiers: [], sandbox: 'none' });
    while ((await rec.h.infty.goal(runId)).status !== 'paused') await new Promise((r) => setTimeout(r, 100));
    await rec.h.infty.steer(runId, 'Deliver x.');
    await rec.h.infty.setGoal(runId, { status: 'active', tokenBudget: 1_000_000 });
    await rec.h.infty.result(runId);
    await rec.save('stalled-resumed', runId);
  });

  it('budget exhausted, with malformed signals and an invalid delivery on the way', async () => {
    const usage = { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 100 };
    rec.responder = scriptByRole({
      solver: [
        withUsage(say('{oops'), usage),
        withUsage(deliver('../escape'), usage),
        withUsage(tools(shell('echo 1')), usage),
        withUsage(say('working'), usage),
        withUsage(say('working'), usage),
        withUsage(say('working'), usage),
        withUsage(say('working'), usage),
        withUsage(say('working'), usage),
      ],
    });
    const { runId } = await rec.h.run({ objective: 'Budget scenario', verifiers: [], tokenBudget: 2500, runId: uniqueId('rec') });
    await rec.save('budget-exhausted', runId);
  });

  it('compaction, a context-length refusal and continue-as-new', async () => {
    let turn = 0;
    rec.responder = (req) => {
      if (req.purpose === 'compaction') return say('Summary so far.');
      turn += 1;
      if (turn === 5) return { kind: 'fault', fault: { kind: 'http', status: 400, code: 'context_length_exceeded' } };
      return turn >= 40 ? deliver('deliverable') : tools(shell(`echo ${turn}`));
    };
    const { runId } = await rec.h.run({
      objective: 'Long scenario',
      verifiers: [],
      runId: uniqueId('rec'),
      autoCompactLimit: 3_000,
      continueAsNewAfterEvents: 150,
    });
    await rec.save('compaction-continue-as-new', runId);
  });

  it('cancelled during a command', async () => {
    rec.responder = () => tools(shell('sleep 20'));
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({ runId, objective: 'Cancel scenario', verifiers: [], sandbox: 'none' });
    while (!(await rec.h.infty.progress(runId)).events.some((e) => e.kind === 'tool_call')) await new Promise((r) => setTimeout(r, 100));
    await rec.h.infty.cancel(runId);
    await rec.h.infty.result(runId);
    await rec.save('cancelled', runId);
  });

  it('director timeout', async () => {
    rec.responder = scriptByRole({ solver: [askDirection('?')], director: [{ kind: 'fault', fault: { kind: 'hang' } }] });
    const { runId } = await rec.h.run({ objective: 'Timeout scenario', verifiers: [], directorTimeoutSecs: 1, runId: uniqueId('rec') });
    await rec.save('director-timeout', runId);
  });
});
