/**
 * `infty show` and `infty goal` with a server but no worker answer within 3 s from what Temporal
 * stores (the goal in the memo, the search attributes) and say that live progress needs a worker;
 * a goal change says a worker is missing instead of hanging or blaming the server.
 */
import { describe, it } from 'vitest';
import { InftyClient } from '../src/client';
import { GOAL_MEMO_KEY } from '../src/protocol/names';
import { runCli } from './support/cli';
import { cliEnv, startHarness, uniqueId } from './support/harness';
import { say } from './support/replies';

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.sequential('inspecting runs without a worker', () => {
  it('a run no worker ever took: goal and show answer at once from its start, a goal change names the missing worker', async ({ expect, onTestFinished }) => {
    const h = await startHarness({ responder: () => say('unused') });
    onTestFinished(() => h.close());
    const env = { ...cliEnv(h), INFTY_TASK_QUEUE: uniqueId('tq-nobody') }; // no worker ever polls this queue
    const runId = uniqueId('nobody');
    const client = await InftyClient.connect({ address: h.address, namespace: 'default', taskQueue: env.INFTY_TASK_QUEUE });
    onTestFinished(() => client.close());
    await client.startRun({ runId, objective: 'count to three', tokenBudget: 5000, sandbox: 'none' });

    const goal = await timed(() => runCli(['goal', runId, '--json'], env, 30_000));
    expect(goal.value.code, goal.value.stderr).toBe(0);
    console.log(`no worker: goal ${goal.ms} ms`);
    expect(goal.ms).toBeLessThan(3_000);
    expect(JSON.parse(goal.value.stdout)).toMatchObject({
      objective: 'count to three',
      status: 'active',
      tokenBudget: 5000,
      tokensUsed: 0,
      remainingTokens: 5000,
    });
    expect(goal.value.stderr).toContain(`no worker polls task queue "${env.INFTY_TASK_QUEUE}"`);
    expect(goal.value.stderr).not.toMatch(/check that the server/);

    const show = await timed(() => runCli(['show', runId], env, 30_000));
    expect(show.value.code, show.value.stderr).toBe(0);
    console.log(`no worker: show ${show.ms} ms`);
    expect(show.ms).toBeLessThan(3_000);
    expect(show.value.stdout).toContain(`run:       ${runId} (running)`);
    expect(show.value.stdout).toContain('objective: count to three');
    expect(show.value.stdout).toContain('live progress needs a worker');

    const change = await timed(() => runCli(['budget', runId, '9000'], env, 30_000));
    expect(change.ms).toBeLessThan(3_000);
    expect(change.value.code).toBe(3);
    expect(change.value.stderr).toContain('no worker polls task queue');
    expect(change.value.stderr).toContain('infty worker');
    expect(change.value.stderr).toContain('nothing was changed');
  }, 120_000);

  it("a run whose worker stopped: the goal as last changed (paused by the user, new budget) within 3 s, also while the server still lists the worker's poller", async ({
    expect,
    onTestFinished,
  }) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const h = await startHarness({
      responder: async () => {
        await held;
        return say('done thinking');
      },
    });
    onTestFinished(() => {
      release();
      return h.close();
    });
    const env = cliEnv(h);
    const runId = uniqueId('stopped');
    await h.infty.startRun({ runId, objective: 'hold the first call', sandbox: 'none', verifiers: [] });
    await until('the first model call', () => h.model.requests.some((r) => r.runId === runId));

    expect((await runCli(['budget', runId, '7000'], env, 30_000)).code).toBe(0);
    expect((await runCli(['pause', runId], env, 30_000)).code).toBe(0);
    const memo = (await h.infty.handle(runId).describe()).memo?.[GOAL_MEMO_KEY] as Record<string, unknown>;
    expect(memo).toMatchObject({ status: 'paused', tokenBudget: 7000, statusReason: 'paused by the user' });

    h.worker.shutdown();
    release();
    // The server keeps listing the stopped worker's poller for a while: the query is given up after 2 s.
    const goal = await timed(() => runCli(['goal', runId], env, 30_000));
    expect(goal.value.code, goal.value.stderr).toBe(0);
    expect(goal.ms).toBeLessThan(3_500);
    expect(goal.value.stdout).toMatch(/status: +paused \(paused by the user\)/);
    expect(goal.value.stdout).toContain('7,000 tokens');
    expect(goal.value.stderr).toMatch(/no worker (answered|polls)/);

    const show = await timed(() => runCli(['show', runId, '--json'], env, 30_000));
    expect(show.value.code, show.value.stderr).toBe(0);
    expect(show.ms).toBeLessThan(3_500);
    const doc = JSON.parse(show.value.stdout);
    // The pause takes effect at the next safe point; the worker stopped during the model call before it.
    expect(doc).toMatchObject({ runId, workflowStatus: 'running', goal: { status: 'paused', tokenBudget: 7000 }, phase: 'solving' });
    expect(doc.note).toContain('live progress needs a worker');
  }, 120_000);
});
