/**
 * Records the replay fixtures of project runs (docs/behaviour.md §4.4, architecture.md decision 14):
 * `project-delivered.json` (a run from a git repository: a direction request that carries the
 * change, a delivery of the project) and `project-diff-delivered.json` (`deliver: "diff"`: the
 * patch is the deliverable). See histories.record.ts: never re-record an old fixture; record into
 * a scratch folder (INFTY_RECORD_OUT=/tmp/pr npx vitest run --config vitest.record.mts
 * test/record/project.record.ts) and add new histories under new names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { makeRepo } from '../support/gitRepo';
import { uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { askDirection, deliver, directive, shell, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the project-run fixtures', () => {
  const rec = useRecorder();
  const work = mkdtempSync(join(tmpdir(), 'infty-rec-proj-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a project run delivering its project, and one delivering the diff', async () => {
    const repo = join(work, 'repo');
    makeRepo(repo, { 'a.txt': 'one\n', 'AGENTS.md': 'Keep lines short.\n' });
    for (const [name, deliverMode] of [
      ['project-delivered', 'path'],
      ['project-diff-delivered', 'diff'],
    ] as const) {
      rec.responder = scriptByRole({
        solver: [tools(shell('echo two >> a.txt')), askDirection('Is one more line enough?'), tools(shell('git status --short')), deliver('.')],
        director: [directive('Yes, deliver.')],
        'verifier*': [verdict('pass')],
      });
      const { runId, outcome } = await rec.h.run({
        objective: 'Append a line to a.txt',
        verifiers: ['verifier-alpha'],
        runId: uniqueId('rec'),
        project: { path: repo, host: hostname(), deliver: deliverMode },
      });
      if (outcome.status !== 'delivered') throw new Error(`${name} ended ${outcome.status}`);
      await rec.save(name, runId);
    }
  });
});
