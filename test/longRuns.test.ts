import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli';
import { uniqueId, useHarness } from './support/harness';
import { deliver, say, shell, tools } from './support/replies';
import { until } from './support/wait';

describe('long and cancelled runs', () => {
  const t = useHarness();

  it('infty cancel stops an in-flight command within seconds; the run ends cancelled and run.json says so', async () => {
    t.responder = () => tools(shell('sleep 30; echo finished > artifacts/after.txt'));
    const runId = uniqueId('cancel');
    await t.h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    await until('the command to start', async () => ((await t.h.infty.progress(runId)).events.some((e) => e.kind === 'tool_call') ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const r = await runCli(['cancel', runId], { TEMPORAL_ADDRESS: t.h.address, INFTY_TASK_QUEUE: t.h.taskQueue, INFTY_HOME: t.h.home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cancelled: cancelled by the user/);
    const outcome = await t.h.infty.result(runId);
    expect(outcome).toEqual({ runId, status: 'cancelled', reason: 'cancelled by the user' });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const runJson = JSON.parse(readFileSync(join(t.h.runsRoot, runId, 'run.json'), 'utf8'));
    expect(runJson.status).toBe('cancelled');
    await new Promise((r2) => setTimeout(r2, 500));
    expect(existsSync(join(t.h.runsRoot, runId, 'artifacts', 'after.txt'))).toBe(false);
  });

  it('cancellation aborts an in-flight model call within seconds', async () => {
    t.responder = () => ({ kind: 'fault', fault: { kind: 'hang' } });
    const runId = uniqueId('cancel-model');
    await t.h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    const request = await until('the model call', async () => t.h.model.requests.find((q) => q.runId === runId));
    const t0 = Date.now();
    await t.h.infty.cancel(runId);
    expect((await t.h.infty.result(runId)).status).toBe('cancelled');
    // The worker aborted its HTTP request (cancellation reaches the activity with its next heartbeat).
    await until('the request to be aborted', async () => request.clientAbortedAt, 10_000);
    expect(request.clientAbortedAt! - t0).toBeLessThan(8_000);
  });

  it('a 2,000-turn run continues-as-new several times and completes; every execution history stays small', async () => {
    const TURNS = 2000;
    const runId = uniqueId('marathon');
    let turn = 0;
    t.responder = (req) => {
      if (req.purpose === 'compaction') return say('Summary: reading files, nothing else.');
      turn += 1;
      if (turn >= TURNS) return deliver('deliverable', 'marathon done');
      // Mostly workflow-handled plan updates (cheap), with a real tool activity every tenth turn.
      return turn % 10 === 0
        ? tools({ name: 'read_file', arguments: { path: 'run.json', limit: 3 } })
        : tools({
            name: 'update_plan',
            arguments: {
              plan: [
                { step: `turn ${turn - 1}`, status: 'completed' },
                { step: `turn ${turn}`, status: 'in_progress' },
              ],
            },
          });
    };
    await t.h.infty.startRun({ runId, objective: 'A very long run', verifiers: [], sandbox: 'none', continueAsNewAfterEvents: 1_000, contextWindow: 60_000 });
    // Queries work across continue-as-new.
    const mid = await until(
      'a continue-as-new',
      async () => {
        const p = await t.h.infty.progress(runId);
        return p.continueAsNewCount >= 1 ? p : undefined;
      },
      120_000,
    );
    expect(mid.runId).toBe(runId);
    const outcome = await t.h.infty.result(runId);
    expect(outcome).toMatchObject({ status: 'delivered', summary: 'marathon done' });

    const progress = await t.h.infty.progress(runId);
    expect(progress.continueAsNewCount).toBeGreaterThanOrEqual(3);
    expect(progress.roles.solver!.modelCalls).toBeGreaterThanOrEqual(TURNS);
    expect(progress.events.some((e) => e.kind === 'continued_as_new')).toBe(true);

    const executions = [];
    for await (const wf of t.h.client.workflow.list({ query: `WorkflowId = '${runId}'` })) executions.push(wf);
    expect(executions.length).toBe(progress.continueAsNewCount + 1);
    for (const wf of executions) {
      const d = await t.h.client.workflow.getHandle(runId, wf.runId).describe();
      // Far below Temporal's warning limits (10,240 events, 10 MB).
      expect(d.historyLength).toBeLessThan(1_500);
      expect(d.historySize).toBeLessThan(1024 * 1024);
    }
    const show = await runCli(['show', runId], { TEMPORAL_ADDRESS: t.h.address, INFTY_TASK_QUEUE: t.h.taskQueue, INFTY_HOME: t.h.home });
    expect(show.stdout).toMatch(new RegExp(`continued-as-new: ${progress.continueAsNewCount}`));
  }, 300_000);
});
