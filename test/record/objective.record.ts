/**
 * Records the replay fixture of a run with per-role reasoning effort and an objective changed
 * mid-run (issue 12; `objective-updated.json`). See histories.record.ts: never re-record an old
 * fixture; record into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories -- objective)
 * and add new histories under new names.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Responder } from '../support/fakeModel';
import { requireTemporalCli } from '../../src/temporalCli';
import { startHarness, uniqueId, type Harness } from '../support/harness';
import { addFile, deliver, say, shell, tools, verdict } from '../support/replies';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

describe('record the objective-update fixture', () => {
  let h: Harness;
  let responder: Responder;
  let temporal: string;

  beforeAll(async () => {
    temporal = await requireTemporalCli();
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('objective changed mid-run, with per-role reasoning effort', async () => {
    const gate: { open?: () => void } = {};
    let step = 0;
    responder = async (req) => {
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
    await h.infty.startRun({ runId, objective: 'Objective scenario', verifiers: ['verifier-alpha'], sandbox: 'none', reasoningEffort: 'low', solverReasoningEffort: 'high' });
    while (!gate.open) await new Promise((r) => setTimeout(r, 50));
    await h.infty.setGoal(runId, { objective: 'Changed <objective>' }).catch(() => undefined);
    await h.client.workflow.getHandle(runId).executeUpdate('setGoal', { args: [{ objective: '' }] }).catch(() => undefined); // refused
    gate.open();
    await h.infty.result(runId);
    const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', runId, '--address', h.address, '--output', 'json']);
    writeFileSync(join(OUT, 'objective-updated.json'), json);
  });
});
