/**
 * Runs the main scenarios on a real server and saves their histories as replay fixtures
 * (test/fixtures/histories). Never re-record an old fixture: after a deliberate, versioned
 * workflow change, record into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories)
 * and add the new histories under new names beside the old ones.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { scriptByRole } from '../support/modelScript';
import type { Responder } from '../support/fakeModel';
import { requireTemporalCli } from '../../src/temporalCli';
import { startHarness, uniqueId, type Harness } from '../support/harness';
import { addFile, askDirection, deliver, directive, say, shell, tools, verdict, withUsage } from '../support/replies';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

describe('record replay fixtures', () => {
  let h: Harness;
  let responder: Responder;

  let temporal: string;

  beforeAll(async () => {
    temporal = await requireTemporalCli();
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  async function save(name: string, runId: string): Promise<void> {
    const executions: string[] = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${runId}'` })) executions.push(wf.runId);
    executions.reverse(); // oldest first
    for (const [i, execution] of executions.entries()) {
      // The temporal CLI's JSON is the standard proto JSON that historyFromJSON reads.
      const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', runId, '--run-id', execution, '--address', h.address, '--output', 'json']);
      const suffix = executions.length > 1 ? `-${i + 1}` : '';
      writeFileSync(join(OUT, `${name}${suffix}.json`), json);
    }
  }

  it('delivered after direction, a failed verification and a fix', async () => {
    responder = scriptByRole({
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
    const { runId } = await h.run({ objective: 'Routing scenario', verifiers: ['verifier-alpha', 'verifier-beta'], runId: uniqueId('rec') });
    await save('delivered', runId);
  });

  it('idle, finalization, stalled pause, steer and resume', async () => {
    responder = scriptByRole({ solver: [say('hmm'), say('hmm'), say('hmm'), tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] });
    const runId = uniqueId('rec');
    await h.infty.startRun({ runId, objective: 'Idle scenario', verifiers: [], sandbox: 'none' });
    while ((await h.infty.goal(runId)).status !== 'paused') await new Promise((r) => setTimeout(r, 100));
    await h.infty.steer(runId, 'Deliver x.');
    await h.infty.setGoal(runId, { status: 'active', tokenBudget: 1_000_000 });
    await h.infty.result(runId);
    await save('stalled-resumed', runId);
  });

  it('budget exhausted, with malformed signals and an invalid delivery on the way', async () => {
    const usage = { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 100 };
    responder = scriptByRole({
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
    const { runId } = await h.run({ objective: 'Budget scenario', verifiers: [], tokenBudget: 2500, runId: uniqueId('rec') });
    await save('budget-exhausted', runId);
  });

  it('compaction, a context-length refusal and continue-as-new', async () => {
    let turn = 0;
    responder = (req) => {
      if (req.purpose === 'compaction') return say('Summary so far.');
      turn += 1;
      if (turn === 5) return { kind: 'fault', fault: { kind: 'http', status: 400, code: 'context_length_exceeded' } };
      return turn >= 40 ? deliver('deliverable') : tools(shell(`echo ${turn}`));
    };
    const { runId } = await h.run({ objective: 'Long scenario', verifiers: [], runId: uniqueId('rec'), autoCompactLimit: 3_000, continueAsNewAfterEvents: 150 });
    await save('compaction-continue-as-new', runId);
  });

  it('cancelled during a command', async () => {
    responder = () => tools(shell('sleep 20'));
    const runId = uniqueId('rec');
    await h.infty.startRun({ runId, objective: 'Cancel scenario', verifiers: [], sandbox: 'none' });
    while (!(await h.infty.progress(runId)).events.some((e) => e.kind === 'tool_call')) await new Promise((r) => setTimeout(r, 100));
    await h.infty.cancel(runId);
    await h.infty.result(runId);
    await save('cancelled', runId);
  });

  it('director timeout', async () => {
    responder = scriptByRole({ solver: [askDirection('?')], director: [{ kind: 'fault', fault: { kind: 'hang' } }] });
    const { runId } = await h.run({ objective: 'Timeout scenario', verifiers: [], directorTimeoutSecs: 1, runId: uniqueId('rec') });
    await save('director-timeout', runId);
  });
});
