/**
 * The Temporal Web UI tells the run's story through Temporal's user metadata: the objective is the
 * workflow's summary and its setup the details, every scheduled activity says who does what, and the
 * workflow metadata query answers the run's current details (phase, goal, recent events).
 */
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, shell, tools, verdict } from './support/replies';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

const decode = (p: Payload | null | undefined): unknown => (p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined);

interface WorkflowMetadata {
  definition?: { type?: string; queryDefinitions?: { name: string }[] };
  currentDetails?: string;
}

describe('Web UI metadata', () => {
  let h: Harness;
  let responder: Responder = () => ({ kind: 'message', text: 'unused' });

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('summaries on the workflow and its activities, details on the workflow, current details through the metadata query', async () => {
    const runId = uniqueId('webui');
    const objective = 'Write deliverable/a.txt with one line, then count its lines.\nKeep it short.';
    const metadataQuery = () => h.client.workflow.getHandle(runId).query<WorkflowMetadata>('__temporal_workflow_metadata');
    let duringVerification: WorkflowMetadata | undefined;
    responder = scriptByRole({
      solver: [tools(addFile('deliverable/a.txt', ['a'])), tools(shell('wc -l deliverable/a.txt')), deliver('deliverable/a.txt', 'one line')],
      'verifier-alpha': [
        async () => {
          duringVerification = await metadataQuery();
          return verdict('pass');
        },
      ],
    });
    const { outcome } = await h.run({ runId, objective, verifiers: ['verifier-alpha'], tokenBudget: 1_000_000 });
    expect(outcome.status).toBe('delivered');

    const { events } = await h.client.workflow.getHandle(runId).fetchHistory();
    const all = (events ?? []) as HistoryEvent[];

    // The workflow: the objective (on one line) as its summary; run id, roles, verifiers and budget as details.
    const started = all.find((e) => e.workflowExecutionStartedEventAttributes)!;
    expect(decode(started.userMetadata?.summary)).toBe('Write deliverable/a.txt with one line, then count its lines. Keep it short.');
    const details = decode(started.userMetadata?.details) as string;
    expect(details).toContain(`\`${runId}\``);
    expect(details).toContain("- solver: the worker's default model");
    expect(details).toContain('**Verifiers:** verifier-alpha');
    expect(details).toContain('**Token budget:** 1,000,000 tokens');

    // Every scheduled activity says who does what (the activity proxies in src/workflows/activities.ts),
    // and so does the local activity that created the run (on its marker, where the Web UI reads it).
    const isLocalActivity = (e: HistoryEvent) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity';
    expect(all.filter(isLocalActivity).map((e) => decode(e.userMetadata?.summary))).toEqual(['run store · create run']);
    const summaries = all.filter((e) => e.activityTaskScheduledEventAttributes || isLocalActivity(e)).map((e) => decode(e.userMetadata?.summary));
    expect(summaries).toEqual(
      expect.arrayContaining([
        'run store · create run',
        'solver · model step',
        'solver · apply_patch: deliverable/a.txt',
        'solver · shell: wc -l deliverable/a.txt',
        'solver · deliverable check: deliverable/a.txt',
        'verifier-alpha · model step',
        'run store · record outcome: delivered',
      ]),
    );
    expect(summaries.every((s) => typeof s === 'string' && s.length > 0)).toBe(true);

    // Current details while the Verifier worked, and after the end (a query on a closed run replays it).
    expect(duringVerification?.definition?.type).toBe('inftyRun');
    expect(duringVerification?.currentDetails).toContain('**Phase:** verifying · **active role:** verifier-alpha');
    expect(duringVerification?.currentDetails).toMatch(/\*\*Goal:\*\* active · \*\*tokens used:\*\* [\d,]+ of 1,000,000/);
    expect(duringVerification?.currentDetails).toContain('**Verification rounds:** 1');
    expect(duringVerification?.currentDetails).toContain('solver · delivery: final delivery: deliverable/a.txt');
    const after = await metadataQuery();
    expect(after.currentDetails).toContain('**Phase:** finished');
    expect(after.currentDetails).toContain('**Goal:** complete');
    expect(after.currentDetails).toMatch(/\*\*Outcome:\*\* delivered — .*deliverable\/a\.txt/);
  });
});
