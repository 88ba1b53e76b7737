/**
 * Records the replay fixtures of turn snapshots and forks (docs/architecture.md decision 13):
 * `turn-snapshots.json` (a run whose Solver turns are snapshotted) and `fork-delivered.json` (a
 * fork of it at turn 1, delivered). See histories.record.ts: never re-record an old fixture; record
 * into a scratch folder
 * (INFTY_RECORD_OUT=/tmp/fk npx vitest run --config vitest.record.mts test/record/fork.record.ts)
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
import { addFile, askDirection, deliver, directive, tools, verdict } from '../support/replies';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

describe('record the turn-snapshot and fork fixtures', () => {
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

  it('a run with turn snapshots, then a fork of it at turn 1', async () => {
    responder = scriptByRole({
      solver: [tools(addFile('a.txt', ['a'])), askDirection('Next?'), tools(addFile('deliverable/b.txt', ['b'])), deliver('deliverable/b.txt')],
      director: [directive('Write deliverable/b.txt')],
      'verifier*': [verdict('pass')],
    });
    const { runId } = await h.run({ objective: 'Snapshot scenario', verifiers: ['verifier-alpha'], runId: uniqueId('rec') });
    await save('turn-snapshots', runId);
    responder = scriptByRole({
      solver: [tools(addFile('deliverable/c.txt', ['c'])), deliver('deliverable/c.txt')],
      'verifier*': [verdict('pass')],
    });
    const fork = await h.run({ objective: 'Fork scenario', verifiers: ['verifier-alpha'], model: 'other-model', forkOf: { runId, turn: 1 }, runId: uniqueId('rec') });
    if (fork.outcome.status !== 'delivered') throw new Error(`fork ended ${fork.outcome.status}`);
    await save('fork-delivered', fork.runId);
  });
});
