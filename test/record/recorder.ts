/**
 * What every fixture-recording file shares: one harness whose scripted model answers through the
 * current `responder`, and `save`, which writes a run's histories (every execution of a
 * continue-as-new chain, oldest first) as replay fixtures. Never re-record an old fixture: record
 * into a scratch folder (INFTY_RECORD_OUT=/tmp/x npm run record-histories) and add new histories
 * under new names (docs/architecture.md, Testing strategy). INFTY_RECORD_TRACED=1 records runs started
 * by a traced client.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll } from 'vitest';
import { requireTemporalCli } from '../../src/temporalCli';
import type { Responder } from '../support/fakeModel';
import { type Harness, startHarness } from '../support/harness';

const OUT = process.env.INFTY_RECORD_OUT ?? join(__dirname, '..', 'fixtures', 'histories');

export interface Recorder {
  readonly h: Harness;
  /** Answers the model requests from now on. */
  responder: Responder;
  save(name: string, runId: string): Promise<void>;
}

/** Call inside a `describe`: starts the harness before its tests and closes it after. */
export function useRecorder(): Recorder {
  let harness: Harness | undefined;
  let temporal = '';
  const rec = {
    get h(): Harness {
      if (!harness) throw new Error('the recorder harness is not started (useRecorder outside describe?)');
      return harness;
    },
    responder: (() => {
      throw new Error('no responder set');
    }) as Responder,
    async save(name: string, runId: string): Promise<void> {
      const executions: string[] = [];
      for await (const wf of rec.h.client.workflow.list({ query: `WorkflowId = '${runId}'` })) executions.push(wf.runId);
      executions.reverse(); // oldest first
      for (const [i, execution] of executions.entries()) {
        // The temporal CLI's JSON is the standard proto JSON that historyFromJSON reads.
        const json = execFileSync(temporal, [
          'workflow',
          'show',
          '--workflow-id',
          runId,
          '--run-id',
          execution,
          '--address',
          rec.h.address,
          '--output',
          'json',
        ]);
        const suffix = executions.length > 1 ? `-${i + 1}` : '';
        writeFileSync(join(OUT, `${name}${suffix}.json`), json);
      }
    },
  };
  beforeAll(async () => {
    // INFTY_RECORD_TRACED=1: runs start with a sampled trace context, as from an `infty` command with
    // OTEL_EXPORTER_OTLP_ENDPOINT set, so the histories hold the workflow's tracing decisions.
    if (process.env.INFTY_RECORD_TRACED) new NodeTracerProvider().register();
    temporal = await requireTemporalCli();
    harness = await startHarness({ responder: (req) => rec.responder(req) });
  });
  afterAll(async () => harness?.close());
  return rec;
}
