/**
 * Records the replay fixture of a pass bound to its content (docs/behaviour.md §3.3): a failed
 * round, a passing round after which the deliverable changes, and a new round on the new content.
 * Record into a scratch folder (INFTY_RECORD_OUT=/tmp/vh npx vitest run --config vitest.record.mts
 * test/record/verifiedHash.record.ts) and copy the new file into test/fixtures/histories/.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTemporalCli } from '../../src/temporalCli';
import type { Responder } from '../support/fakeModel';
import { startHarness, uniqueId, type Harness } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, deliver, shell, tools, verdict } from '../support/replies';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

describe('record the verified-hash fixture', () => {
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

  it('delivered after the deliverable changed following a passing round', async () => {
    const runId = uniqueId('rec');
    responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/out.txt', ['v1'])),
        deliver('deliverable/out.txt'),
        tools(shell('echo v2 > deliverable/out.txt')),
        deliver('deliverable/out.txt', 'fixed'),
      ],
      'verifier-alpha': [
        verdict('fail', ['says v1']),
        () => {
          writeFileSync(join(h.runsRoot, runId, 'deliverable', 'out.txt'), 'v3\n');
          return verdict('pass');
        },
        verdict('pass'),
      ],
    });
    const { outcome } = await h.run({ objective: 'Verified-hash scenario', verifiers: ['verifier-alpha'], runId });
    expect(outcome.status).toBe('delivered');
    await save('delivered-verified-hash-changed', runId);
  });
});
