import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { workflowSpanSinks } from '../src/telemetry';
import { PATCHES } from '../src/workflows/patches';
import { WORKFLOW_TRACING_PATCH } from '../src/workflows/tracing';
import { localActivityTypes, patchIds } from './support/history';

const DIR = join(__dirname, 'fixtures', 'histories');
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The patch ids a fixture records. */
function fixturePatchIds(file: string): string[] {
  return patchIds((JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { events: Parameters<typeof patchIds>[0] }).events);
}

describe('determinism: recorded histories replay against the current workflow code', () => {
  it('has fixtures for the main scenarios', () => {
    for (const name of [
      'delivered',
      'stalled-resumed',
      'budget-exhausted',
      'compaction-continue-as-new-1',
      'cancelled',
      'director-timeout',
      'turn-snapshots',
      'fork-delivered',
      'project-delivered',
      'project-diff-delivered',
      'goal-memo-paused-resumed',
      'cost-budget-exhausted',
      'approvals-decided',
    ]) {
      expect(fixtures).toContain(`${name}.json`);
    }
  });

  it('the -workflow-tracing fixtures were recorded with the workflow spans switched on', () => {
    const traced = fixtures.filter((f) => f.endsWith('-workflow-tracing.json'));
    expect(traced.length).toBeGreaterThanOrEqual(10);
    for (const file of traced) expect(fixturePatchIds(file), file).toContain(WORKFLOW_TRACING_PATCH);
    // …and the older ones without: replaying them proves the patch keeps them untraced.
    expect(fixturePatchIds('stalled-resumed.json')).not.toContain(WORKFLOW_TRACING_PATCH);
  });

  it('the goal-memo fixture records the patch that keeps the goal in the memo; older ones do not', () => {
    expect(fixturePatchIds('goal-memo-paused-resumed.json')).toContain('goal-memo');
    expect(fixturePatchIds('delivered.json')).not.toContain('goal-memo');
  });

  it("the mcp-tools fixture records the patch that lists a run's MCP tools; runs without MCP servers do not", () => {
    expect(fixturePatchIds('mcp-tools-delivered.json')).toContain('mcp-tools');
    expect(fixturePatchIds('goal-memo-paused-resumed.json')).not.toContain('mcp-tools');
  });

  it('the cost-budget fixture records the patch a cost budget takes; runs without one never do', () => {
    expect(fixturePatchIds('cost-budget-exhausted.json')).toContain('cost-budget');
    for (const file of fixtures.filter((f) => f !== 'cost-budget-exhausted.json')) expect(fixturePatchIds(file), file).not.toContain('cost-budget');
  });

  it('the approvals fixture records the patch a gated call takes; runs where nothing waited never do', () => {
    expect(fixturePatchIds('approvals-decided.json')).toContain('approvals');
    for (const file of fixtures.filter((f) => f !== 'approvals-decided.json')) expect(fixturePatchIds(file), file).not.toContain('approvals');
  });

  it('the local-run-creation fixtures create the run in a local activity, within the first workflow task; older ones in an activity', () => {
    type Event = Parameters<typeof localActivityTypes>[0][number] & {
      eventType: string;
      activityTaskScheduledEventAttributes?: { activityType: { name: string } };
    };
    const creation = (file: string) => {
      const events = (JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { events: Event[] }).events;
      const scheduled = (e: Event) => e.activityTaskScheduledEventAttributes?.activityType.name;
      const local = localActivityTypes(events);
      const firstModelStep = events.findIndex((e) => scheduled(e) === 'modelStep');
      const workflowTasksBefore = events.slice(0, firstModelStep).filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').length;
      return { activity: events.filter((e) => scheduled(e) === 'createRun').length, local, workflowTasksBefore };
    };
    for (const file of ['delivered-local-run-creation.json', 'delivered-local-run-creation-workflow-tracing.json']) {
      expect(fixturePatchIds(file), file).toContain('local-run-creation');
      expect(creation(file), file).toEqual({ activity: 0, local: ['createRun'], workflowTasksBefore: 1 });
    }
    expect(fixturePatchIds('delivered-local-run-creation-workflow-tracing.json')).toContain(WORKFLOW_TRACING_PATCH);
    for (const file of ['delivered.json', 'delivered-workflow-tracing.json']) {
      expect(fixturePatchIds(file), file).not.toContain('local-run-creation');
      expect(creation(file), file).toEqual({ activity: 1, local: [], workflowTasksBefore: 2 });
    }
  });

  it('the goal-edge fixtures record the patches they take; older runs never do', () => {
    for (const [file, patch] of [
      ['budget-watchdog-exhausted.json', 'budget-over-watchdog'],
      ['watchdog-director-invalid-held.json', 'watchdog-director-failure-holds'],
      ['objective-restarts-watchdog.json', 'objective-restarts-watchdog'],
    ] as const) {
      expect(fixturePatchIds(file), file).toContain(patch);
      expect(fixturePatchIds('delivered.json')).not.toContain(patch);
    }
  });

  it('every patch is in src/workflows/patches.ts, recorded by its fixture, and branched on by name only', () => {
    for (const [name, p] of Object.entries(PATCHES)) {
      expect(fixtures, name).toContain(p.fixture);
      expect(fixturePatchIds(p.fixture), `${name} in ${p.fixture}`).toContain(p.id);
    }
    const literal = /\bpatched\(\s*['"`]/;
    const workflowFiles = readdirSync(join(__dirname, '..', 'src', 'workflows')).filter((f) => f.endsWith('.ts') && f !== 'patches.ts');
    for (const f of workflowFiles) expect(readFileSync(join(__dirname, '..', 'src', 'workflows', f), 'utf8'), f).not.toMatch(literal);
  });

  it('the shipped bundle (dist/workflow-bundle.js, built from the compiled code) loads and replays too', async () => {
    // The suite's bundle is built from src; the one workers load by default is built from dist, where module
    // order can differ (an import that reads a global the sandbox does not have yet fails only there).
    // A traced fixture loads OpenTelemetry's packages when the execution starts, in that bundle's order.
    const shipped = join(__dirname, '..', 'dist', 'workflow-bundle.js');
    for (const file of ['approvals-decided.json', 'delivered-workflow-tracing.json']) {
      const history: unknown = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: { codePath: shipped }, sinks: workflowSpanSinks() }, history, file);
    }
  });

  it('both bundles share zod between workflows: their preloadModules evaluates src/workflows/sharedModules', () => {
    // zod declares itself free of side effects, so a bare require of it as a preload module is
    // dropped by webpack and every workflow evaluates zod again (docs/architecture.md, "Worker tuning").
    for (const bundle of [join(__dirname, '..', 'dist', 'workflow-bundle.js'), inject('workflowBundlePath')]) {
      const code = readFileSync(bundle, 'utf8');
      const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
      expect(preload, bundle).toMatch(/__webpack_require__\([^)]*workflows\/sharedModules\.(js|ts)"\)/);
    }
  });

  it.each(fixtures)('%s replays without nondeterminism', async (file) => {
    // The worker converts the proto JSON written by `temporal workflow show --output json`.
    const history: unknown = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    // With the sink every worker registers for workflow spans (never called while replaying).
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, sinks: workflowSpanSinks() }, history, file);
  });
});
