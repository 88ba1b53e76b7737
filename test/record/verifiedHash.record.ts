/**
 * Records the replay fixture of a pass bound to its content (docs/behaviour.md §3.3): a failed
 * round, a passing round after which the deliverable changes, and a new round on the new content.
 * Record into a scratch folder (INFTY_RECORD_OUT=/tmp/vh npx vitest run --config vitest.record.mts
 * test/record/verifiedHash.record.ts) and copy the new file into test/fixtures/histories/.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the verified-hash fixture', () => {
  const rec = useRecorder();

  it('delivered after the deliverable changed following a passing round', async () => {
    const runId = uniqueId('rec');
    rec.responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/out.txt', ['v1'])),
        deliver('deliverable/out.txt'),
        tools(shell('echo v2 > deliverable/out.txt')),
        deliver('deliverable/out.txt', 'fixed'),
      ],
      'verifier-alpha': [
        verdict('fail', ['says v1']),
        () => {
          writeFileSync(join(rec.h.runsRoot, runId, 'deliverable', 'out.txt'), 'v3\n');
          return verdict('pass');
        },
        verdict('pass'),
      ],
    });
    const { outcome } = await rec.h.run({ objective: 'Verified-hash scenario', verifiers: ['verifier-alpha'], runId });
    expect(outcome.status).toBe('delivered');
    await rec.save('delivered-verified-hash-changed', runId);
  });
});
