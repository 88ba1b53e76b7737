import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors';
import { requireTemporalCli } from '../src/temporalCli';
import { runCli } from './support/cli';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { deliver, say, shell, tools, withUsage } from './support/replies';
import { until } from './support/wait';

const exec = promisify(execFile);
const USAGE = { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 100, reasoningTokens: 30 };
const BILLABLE = 1000 - 400 + 100;

function userTexts(req: RecordedRequest, role: 'user' | 'developer' = 'user'): string[] {
  return (req.body.input as { role?: string; content?: string }[]).filter((i) => i.role === role).map((i) => i.content ?? '');
}

describe('goals: budgets, accounting, pause, resume, steering', () => {
  let h: Harness;
  let responder: Responder;
  let temporal: string;
  const cliEnv = () => ({ TEMPORAL_ADDRESS: h.address, INFTY_TASK_QUEUE: h.taskQueue, INFTY_HOME: h.home, INFTY_RUNS_ROOT: h.runsRoot });
  const tctl = (args: string[]) => exec(temporal, [...args, '--address', h.address, '--namespace', 'default'], { timeout: 30_000 });

  beforeAll(async () => {
    temporal = await requireTemporalCli();
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  /** A Solver that works (tool call, then an idle message) until `finish` is set, then delivers. */
  function workingSolver(state: { finish: boolean; latencyMs?: number }): Responder {
    let step = 0;
    return (_req) => {
      if (state.finish) return withUsage(deliver('deliverable'), USAGE);
      step += 1;
      const reply = step % 2 === 1 ? tools(shell(`echo ${step}`)) : say('still working');
      return { ...withUsage(reply, USAGE), ...(state.latencyMs ? { latencyMs: state.latencyMs } : {}) } as ReturnType<Responder> & object;
    };
  }

  it('a budgeted run becomes budget_limited, gets the budget-limit message once, and ends budget_exhausted; accounting is exact', async () => {
    responder = workingSolver({ finish: false });
    const { runId, outcome } = await h.run({ objective: 'Never finishes', verifiers: [], tokenBudget: 2 * BILLABLE + 1 });
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status !== 'delivered' && outcome.reason).toMatch(/token budget of 1401 reached .* did not deliver within 3 further turn/);
    const reqs = h.model.requests.filter((r) => r.runId === runId);
    const last = reqs[reqs.length - 1]!;
    expect(userTexts(last, 'developer').filter((t) => t.startsWith('# Token budget reached'))).toHaveLength(1);
    const goal = await h.infty.goal(runId);
    expect(goal.status).toBe('budget_limited');
    expect(goal.tokensUsed).toBe(reqs.length * BILLABLE); // cached input excluded, reasoning not double-counted
    expect(goal.remainingTokens).toBe(0);
    const progress = await h.infty.progress(runId);
    expect(progress.roles.solver!.tokensUsed).toBe(goal.tokensUsed);
    expect(progress.roles.solver!.cachedInputTokens).toBe(reqs.length * 400);
    expect(progress.events.filter((e) => e.kind === 'budget_limited')).toHaveLength(2); // reached + message sent
  });

  it('raising the budget mid-run reactivates the goal and the run goes on to deliver', async () => {
    const state = { finish: false, latencyMs: 20 };
    responder = workingSolver(state);
    const runId = uniqueId('budget');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], tokenBudget: BILLABLE, sandbox: 'none', budgetGraceTurns: 50 });
    await until('budget_limited', async () => ((await h.infty.goal(runId)).status === 'budget_limited' ? true : undefined));
    const raised = await h.infty.setGoal(runId, { tokenBudget: 1_000_000 });
    expect(raised.status).toBe('active');
    expect(raised.tokenBudget).toBe(1_000_000);
    state.finish = true;
    const outcome = await h.infty.result(runId);
    expect(outcome.status).toBe('delivered');
    expect((await h.infty.goal(runId)).status).toBe('complete');
  });

  it('pause and resume through the CLI, through the setGoal update and through the temporal binary; no model calls while paused', async () => {
    const state = { finish: false, latencyMs: 30 };
    responder = workingSolver(state);
    const runId = uniqueId('pause');
    await h.infty.startRun({ runId, objective: 'Pausable', verifiers: [], sandbox: 'none' });
    await until('first requests', async () => (h.model.requests.filter((r) => r.runId === runId).length >= 2 ? true : undefined));

    const assertQuiet = async () => {
      await until('paused', async () => ((await h.infty.goal(runId)).status === 'paused' ? true : undefined));
      await new Promise((r) => setTimeout(r, 300)); // an in-flight step may finish
      const before = h.model.requests.filter((r) => r.runId === runId).length;
      await new Promise((r) => setTimeout(r, 1_000));
      expect(h.model.requests.filter((r) => r.runId === runId).length).toBe(before);
      expect((await h.infty.progress(runId)).phase).toBe('paused');
    };
    const assertRunning = () =>
      until('progress after resume', async () => {
        const n = h.model.requests.filter((r) => r.runId === runId).length;
        await new Promise((r) => setTimeout(r, 300));
        return h.model.requests.filter((r) => r.runId === runId).length > n ? true : undefined;
      });

    // 1. CLI
    const paused = await runCli(['pause', runId], cliEnv());
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/status:\s+paused/);
    await assertQuiet();
    const goalJson = JSON.parse((await runCli(['goal', runId, '--json'], cliEnv())).stdout);
    expect(goalJson).toMatchObject({ status: 'paused', statusReason: 'paused by the user' });
    // The search attribute follows, for `temporal workflow list`.
    await until('visibility', async () => {
      const { stdout } = await tctl(['workflow', 'list', '--query', `InftyGoalStatus='paused' AND WorkflowId='${runId}'`, '--output', 'json']);
      return stdout.includes(runId) ? true : undefined;
    });
    expect((await runCli(['resume', runId], cliEnv())).code).toBe(0);
    await assertRunning();

    // 2. The setGoal update
    expect((await h.infty.setGoal(runId, { status: 'paused' })).status).toBe('paused');
    await assertQuiet();
    expect((await h.infty.setGoal(runId, { status: 'active' })).status).toBe('active');
    await assertRunning();

    // 3. The official temporal CLI: signals, update, query
    await tctl(['workflow', 'signal', '--workflow-id', runId, '--name', 'pause']);
    await assertQuiet();
    const q = await tctl(['workflow', 'query', '--workflow-id', runId, '--name', 'goal', '--output', 'json']);
    expect(JSON.parse(q.stdout).queryResult[0]).toMatchObject({ status: 'paused', objective: 'Pausable' });
    await tctl(['workflow', 'signal', '--workflow-id', runId, '--name', 'resume']);
    await assertRunning();
    const upd = await tctl([
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      runId,
      '--name',
      'setGoal',
      '--input',
      '{"status":"paused","tokenBudget":9000000}',
    ]);
    expect(upd.stdout).toMatch(/paused/);
    await assertQuiet();
    expect((await h.infty.goal(runId)).tokenBudget).toBe(9_000_000);
    await tctl(['workflow', 'signal', '--workflow-id', runId, '--name', 'steer', '--input', '{"message":"Wrap it up now."}']);
    await tctl(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', 'setGoal', '--input', '{"status":"active"}']);
    await assertRunning();

    // The steering message reached the Solver's next request.
    await until('steer delivered', async () =>
      h.model.requests.some((r) => r.runId === runId && userTexts(r).includes('Wrap it up now.')) ? true : undefined,
    );
    state.finish = true;
    expect((await h.infty.result(runId)).status).toBe('delivered');
  }, 120_000);

  it('refuses invalid budgets and statuses with the reason, changing nothing', async () => {
    const state = { finish: false, latencyMs: 50 };
    responder = workingSolver(state);
    const runId = uniqueId('refuse');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], tokenBudget: 10_000_000, sandbox: 'none' });
    const before = await h.infty.goal(runId);
    await expect(h.infty.setGoal(runId, { tokenBudget: -1 })).rejects.toThrow(
      /refused: token budget must be a positive whole number of tokens, or "none" for no budget; got -1/,
    );
    await expect(h.infty.setGoal(runId, { tokenBudget: 2.5 })).rejects.toThrow(UsageError);
    await expect(h.infty.setGoal(runId, { status: 'done' as 'active' })).rejects.toThrow(/status must be "active" or "paused"/);
    await expect(h.infty.setGoal(runId, { tokens: 5 } as never)).rejects.toThrow(/unknown field\(s\) tokens/);
    await expect(tctl(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', 'setGoal', '--input', '{"tokenBudget":0}'])).rejects.toThrow(
      /positive whole number/,
    );
    const cli = await runCli(['budget', runId, '0'], cliEnv());
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/must be a positive whole number/);
    const after = await h.infty.goal(runId);
    expect(after.tokenBudget).toBe(before.tokenBudget);
    expect(after.status).toBe('active');
    const ok = await runCli(['budget', runId, 'none'], cliEnv());
    expect(ok.code, ok.stderr).toBe(0);
    expect((await h.infty.goal(runId)).tokenBudget).toBeNull();
    state.finish = true;
    await h.infty.result(runId);
  });

  it('starts a valid run from the temporal binary with the documented input', async () => {
    responder = (req) => (req.role === 'solver' ? deliver('deliverable') : say(JSON.stringify({ verdict: 'pass', reasons: [], suggestions: [] })));
    const runId = uniqueId('tctl');
    await tctl([
      'workflow',
      'start',
      '--type',
      'inftyRun',
      '--task-queue',
      h.taskQueue,
      '--workflow-id',
      runId,
      '--input',
      JSON.stringify({ runId, objective: 'Started by the temporal CLI', verifiers: ['verifier-alpha'], tokenBudget: 200000, sandbox: 'none' }),
    ]);
    const outcome = await h.infty.result(runId);
    expect(outcome).toMatchObject({ runId, status: 'delivered' });
  });
});
