/**
 * Records the replay fixture of a run created in a local activity (`local-run-creation` patch,
 * docs/architecture.md decision 12): a tool call, a delivery, one Verifier's pass
 * (`delivered-local-run-creation.json`; with INFTY_RECORD_TRACED=1 the `-workflow-tracing` one).
 * See histories.record.ts: never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the local-run-creation fixture', () => {
  const rec = useRecorder();

  it('created in a local activity, delivered', async () => {
    rec.responder = scriptByRole({
      solver: [tools(addFile('deliverable/out.txt', ['v1']), shell('echo hi')), deliver('deliverable/out.txt')],
      'verifier-alpha': [verdict('pass')],
    });
    const { runId } = await rec.h.run({ objective: 'Local creation scenario', verifiers: ['verifier-alpha'], runId: uniqueId('rec') });
    const traced = process.env.INFTY_RECORD_TRACED === '1' ? '-workflow-tracing' : '';
    await rec.save(`delivered-local-run-creation${traced}`, runId);
  });
});
