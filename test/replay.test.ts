import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

const DIR = join(__dirname, 'fixtures', 'histories');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('determinism: recorded histories replay against the current workflow code', () => {
  it('has fixtures for the main scenarios', () => {
    for (const name of ['delivered', 'stalled-resumed', 'budget-exhausted', 'compaction-continue-as-new-1', 'cancelled', 'director-timeout', 'turn-snapshots', 'fork-delivered']) {
      expect(fixtures).toContain(`${name}.json`);
    }
  });

  it.each(fixtures)('%s replays without nondeterminism', async (file) => {
    // The worker converts the proto JSON written by `temporal workflow show --output json`.
    const history: unknown = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);
  });
});
