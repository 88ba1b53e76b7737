/**
 * A budget is a budget (goals): after the limit one wrap-up message, then a bounded overshoot;
 * raising the budget at any moment restores normal work; a limited goal never hears "still
 * active"; no active time counts while the run is held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { deliver, say, shell, tools, withUsage } from './support/replies';
import { until } from './support/wait';

const USAGE = { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 0 };

/** The orchestrator's prompts (budget limit, continuation, finalization) are developer messages. */
function developerTexts(req: RecordedRequest): string[] {
  return (req.body.input as { role?: string; content?: string }[]).filter((i) => i.role === 'developer').map((i) => i.content ?? '');
}

describe('budget edges', () => {
  let h: Harness;
  let responder: Responder;
  const requestsOf = (runId: string) => h.model.requests.filter((r) => r.runId === runId);

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('a Solver that never stops calling tools overshoots by at most budgetGraceModelCalls model calls, after one wrap-up message', async () => {
    // Each call differs (the convergence watchdog stays out of it: this test is about the budget).
    let n = 0;
    responder = () => withUsage(tools(shell(`echo more ${n++}`)), USAGE);
    const objective = 'Build <b>everything</b> & more';
    const { runId, outcome } = await h.run({ objective, verifiers: [], tokenBudget: 1000 });
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status !== 'delivered' && outcome.reason).toMatch(/10 model calls allowed after it are spent/);
    const reqs = requestsOf(runId);
    expect(reqs.length).toBe(1 + 10); // the call that reached the limit, then the documented cap
    const texts = developerTexts(reqs[reqs.length - 1]!);
    const notices = texts.filter((t) => t.startsWith('# Token budget reached'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('<untrusted_objective>\nBuild &lt;b&gt;everything&lt;/b&gt; &amp; more\n</untrusted_objective>');
    expect(notices[0]).toMatch(/Time used: \d+s/);
    expect(notices[0]).toContain('Tokens used: 1000 of 1000');
    const goal = await h.infty.goal(runId);
    expect(goal.status).toBe('budget_limited');
    expect(goal.tokensUsed).toBe(11_000);
  });

  it('the overshoot cap counts every role: verification after the limit is bounded too', async () => {
    let solverSteps = 0;
    responder = (req) => {
      if (req.role === 'solver') {
        solverSteps += 1;
        return withUsage(solverSteps === 1 ? tools(shell('mkdir -p deliverable && echo x > deliverable/x')) : deliver('deliverable'), USAGE);
      }
      // Verifiers that keep reading files forever.
      return withUsage(tools({ name: 'list_dir', arguments: { path: '.' } }), USAGE);
    };
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: ['verifier-alpha'], tokenBudget: 1000, budgetGraceModelCalls: 4 });
    expect(outcome.status).toBe('budget_exhausted');
    expect(requestsOf(runId).length).toBe(1 + 4);
  });

  it('raising the budget during the last grace turn restores normal work: the run goes on and delivers', async () => {
    const runId = uniqueId('raise-in-grace');
    let step = 0;
    let raised = false;
    responder = async (req) => {
      step += 1;
      if (step === 1) return withUsage(tools(shell('echo 1')), USAGE); // reaches the budget
      if (step === 2) {
        // The grace turn: the budget is raised while this reply is on its way.
        await h.infty.setGoal(req.runId!, { tokenBudget: 1_000_000 });
        raised = true;
        return withUsage(say('still working'), USAGE);
      }
      return withUsage(deliver('deliverable'), USAGE);
    };
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], tokenBudget: 1000, sandbox: 'none', budgetGraceTurns: 1 });
    const outcome = await h.infty.result(runId);
    expect(raised).toBe(true);
    expect(outcome.status).toBe('delivered');
    const texts = requestsOf(runId).flatMap(developerTexts);
    expect(texts.filter((t) => t.startsWith('# Continue working')).length).toBeGreaterThan(0); // normal idle handling again
  });

  it('a budget-limited goal never receives the continuation prompt: an idle turn gets the finalization instruction', async () => {
    let step = 0;
    responder = () => {
      step += 1;
      if (step === 1) return withUsage(tools(shell('echo 1')), USAGE);
      return withUsage(say('I am still thinking about it'), USAGE);
    };
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: [], tokenBudget: 1000 });
    expect(outcome.status).toBe('budget_exhausted');
    const reqs = requestsOf(runId);
    for (const r of reqs) expect(developerTexts(r).some((t) => t.startsWith('# Continue working'))).toBe(false);
    expect(developerTexts(reqs[2]!).some((t) => t.includes('final_delivery'))).toBe(true);
    expect(reqs[2]!.body.text?.format?.name).toBe('solver_final');
  });

  it('no active time counts while the run is held, even when the budget is raised during the hold', async () => {
    const gate: { release?: () => void } = {};
    let step = 0;
    responder = async () => {
      step += 1;
      if (step === 1) return withUsage(tools(shell('echo 1')), USAGE);
      if (step === 2) await new Promise<void>((r) => (gate.release = r));
      return withUsage(deliver('deliverable'), USAGE);
    };
    const runId = uniqueId('held-time');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], tokenBudget: 1000, sandbox: 'none' });
    await until('budget_limited', async () => ((await h.infty.goal(runId)).status === 'budget_limited' ? true : undefined));
    await h.infty.pause(runId);
    const raised = await h.infty.setGoal(runId, { tokenBudget: 1_000_000 });
    expect(raised.status).toBe('paused'); // held: not active, whatever the budget
    const t0 = (await h.infty.goal(runId)).timeUsedSeconds;
    await new Promise((r) => setTimeout(r, 2_000));
    const t1 = (await h.infty.goal(runId)).timeUsedSeconds;
    expect(t1).toBe(t0);
    expect((await h.infty.progress(runId)).goal.status).toBe('paused');
    await h.infty.resume(runId);
    await until('the held step to be requested', () => gate.release);
    gate.release!();
    expect((await h.infty.result(runId)).status).toBe('delivered');
  });

  for (const wireApi of ['responses', 'chat'] as const) {
    it(`a ${wireApi} server that reports no usage still exhausts a budget: tokens are estimated and marked`, async () => {
      const silent = await startHarness({ wireApi, responder: () => ({ ...tools(shell(`echo ${'word '.repeat(200)}`)), omitUsage: true }) });
      try {
        const { runId, outcome } = await silent.run({ objective: 'x', verifiers: [], tokenBudget: 2_000 });
        expect(outcome.status).toBe('budget_exhausted');
        const goal = await silent.infty.goal(runId);
        expect(goal.tokensEstimated).toBe(true);
        expect(goal.tokensUsed).toBeGreaterThanOrEqual(2_000);
      } finally {
        await silent.close();
      }
    });
  }
});
