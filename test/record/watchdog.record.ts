/**
 * Records the replay fixtures of the convergence watchdog (docs/behaviour.md §3.7):
 * `watchdog-paused-resumed.json` (a failing command repeated: escalation to the Director, then a
 * pause, a resume and a delivery) and `watchdog-verification.json` (verification rounds failing for
 * the same reason: escalation, then a passing delivery). See histories.record.ts: never re-record
 * an old fixture; record into a scratch folder
 * (INFTY_RECORD_OUT=/tmp/x npx vitest run --config vitest.record.mts test/record/watchdog.record.ts)
 * and add new histories under new names.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Responder } from '../support/fakeModel';
import { scriptByRole } from '../support/modelScript';
import { requireTemporalCli } from '../../src/temporalCli';
import { startHarness, uniqueId, type Harness } from '../support/harness';
import { addFile, deliver, directive, shell, tools, verdict } from '../support/replies';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

describe('record the convergence-watchdog fixtures', () => {
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
      const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', runId, '--run-id', execution, '--address', h.address, '--output', 'json']);
      const suffix = executions.length > 1 ? `-${i + 1}` : '';
      writeFileSync(join(OUT, `${name}${suffix}.json`), json);
    }
  }

  it('a repeated failing command: escalation, pause, resume, delivery', async () => {
    const failing = () => tools(shell('exit 3'));
    responder = scriptByRole({
      solver: [failing(), failing(), failing(), failing(), failing(), failing(), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
      director: [directive('Read the error before running it again.')],
    });
    const runId = uniqueId('rec');
    await h.infty.startRun({ runId, objective: 'Watchdog scenario', verifiers: [], sandbox: 'none' });
    while ((await h.infty.goal(runId)).status !== 'paused') await new Promise((r) => setTimeout(r, 100));
    await h.infty.resume(runId);
    await h.infty.result(runId);
    await save('watchdog-paused-resumed', runId);
  });

  it('verification rounds failing for the same reason: escalation, then a pass', async () => {
    responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
        deliver('deliverable/a.txt'),
        deliver('deliverable/a.txt'),
        tools(addFile('deliverable/README.md', ['readme'])),
        deliver('deliverable'),
      ],
      director: [directive('Add the README.')],
      'verifier-alpha': [verdict('fail', ['Missing README (1)']), verdict('fail', ['missing readme (2)']), verdict('fail', ['Missing README (3).']), verdict('pass')],
    });
    const { runId } = await h.run({ objective: 'Watchdog verification scenario', verifiers: ['verifier-alpha'], runId: uniqueId('rec') });
    await save('watchdog-verification', runId);
  });
});
