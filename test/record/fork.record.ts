/**
 * Records the replay fixtures of turn snapshots and forks (docs/architecture.md decision 13):
 * `turn-snapshots.json` (a run whose Solver turns are snapshotted) and `fork-delivered.json` (a
 * fork of it at turn 1, delivered). See histories.record.ts: never re-record an old fixture; record
 * into a scratch folder
 * (INFTY_RECORD_OUT=/tmp/fk npx vitest run --config vitest.record.mts test/record/fork.record.ts)
 * and add new histories under new names.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { addFile, askDirection, deliver, directive, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the turn-snapshot and fork fixtures', () => {
  const rec = useRecorder();

  it('a run with turn snapshots, then a fork of it at turn 1', async () => {
    rec.responder = scriptByRole({
      solver: [tools(addFile('a.txt', ['a'])), askDirection('Next?'), tools(addFile('deliverable/b.txt', ['b'])), deliver('deliverable/b.txt')],
      director: [directive('Write deliverable/b.txt')],
      'verifier*': [verdict('pass')],
    });
    const { runId } = await rec.h.run({ objective: 'Snapshot scenario', verifiers: ['verifier-alpha'], runId: uniqueId('rec') });
    await rec.save('turn-snapshots', runId);
    rec.responder = scriptByRole({
      solver: [tools(addFile('deliverable/c.txt', ['c'])), deliver('deliverable/c.txt')],
      'verifier*': [verdict('pass')],
    });
    const fork = await rec.h.run({
      objective: 'Fork scenario',
      verifiers: ['verifier-alpha'],
      model: 'other-model',
      forkOf: { runId, turn: 1 },
      runId: uniqueId('rec'),
    });
    if (fork.outcome.status !== 'delivered') throw new Error(`fork ended ${fork.outcome.status}`);
    await rec.save('fork-delivered', fork.runId);
  });
});
