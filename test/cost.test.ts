/**
 * Cost in dollars (docs/behaviour.md §5.2–5.3, docs/interface.md §4 INFTY_PRICES): each model step
 * priced by the model activity from the price table of `@pydantic/genai-prices` (cached input at the
 * cached price) or INFTY_PRICES, summed per role and per run by the workflow; a model without a
 * known price is "price unknown" (null), never 0; `--cost-budget` ends a run like the token budget
 * and is refused for a model without a price. Needs `npm run build` (the CLI children run dist/).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UsageError } from '../src/errors';
import { costOf, loadPrices, priceKnown } from '../src/host/prices';
import { formatUsd, type Goal } from '../src/protocol/goal';
import type { Progress } from '../src/protocol/progress';
import { runCli } from './support/cli';
import type { RecordedRequest, Responder, ScriptedReply, Usage } from './support/fakeModel';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { deliver, say, shell, tools, verdict, withUsage } from './support/replies';

/** Uncached: 12,000 input, 800 output. Cached: 20,000 input of which 16,000 cached, 500 output. */
const UNCACHED: Usage = { inputTokens: 12_000, cachedInputTokens: 0, outputTokens: 800, reasoningTokens: 100 };
const CACHED: Usage = { inputTokens: 20_000, cachedInputTokens: 16_000, outputTokens: 500, reasoningTokens: 50 };
const VERIFIER: Usage = { inputTokens: 3_000, cachedInputTokens: 1_000, outputTokens: 200, reasoningTokens: 0 };

/** The INFTY_PRICES model, $10 / $1 cached / $40 per million tokens: 1,000 in (400 cached) + 100 out = $0.0104. */
const PRIVATE = 'private-llm';
const PRIVATE_PRICE = { input_mtok: 10, cache_read_mtok: 1, output_mtok: 40 };
const PRIVATE_USAGE: Usage = { inputTokens: 1000, cachedInputTokens: 400, outputTokens: 100, reasoningTokens: 0 };
const PRIVATE_CALL_USD = 0.0104;
const UNKNOWN = 'no-such-model-xyz';

/** The package's own price for a usage, as its API computes it. */
function tablePrice(model: string, u: Usage): number {
  const r = calcPrice({ input_tokens: u.inputTokens, cache_read_tokens: u.cachedInputTokens, output_tokens: u.outputTokens }, model);
  if (!r) throw new Error(`the price table has no price for ${model}`);
  return Number(r.total_price);
}

function developerTexts(req: RecordedRequest): string[] {
  return (req.body.input as { role?: string; content?: string }[]).filter((i) => i.role === 'developer').map((i) => i.content ?? '');
}

describe('cost in dollars', () => {
  let h: Harness;
  let responder: Responder;
  let dir: string;
  let pricesFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'infty-cost-'));
    pricesFile = join(dir, 'prices.json');
    writeFileSync(pricesFile, JSON.stringify({ models: { [PRIVATE]: PRIVATE_PRICE } }));
    h = await startHarness({ responder: (req) => responder(req), prices: loadPrices(pricesFile) });
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prices cached and uncached usage as the price table does; unknown is null; INFTY_PRICES wins and extends', () => {
    const none = loadPrices(undefined);
    // Hand-checked: gpt-5.1 is $1.25 / $0.125 cached / $10 per million tokens.
    expect(tablePrice('gpt-5.1', UNCACHED)).toBeCloseTo((12_000 * 1.25 + 800 * 10) / 1e6, 12); // $0.023
    expect(tablePrice('gpt-5.1', CACHED)).toBeCloseTo((4_000 * 1.25 + 16_000 * 0.125 + 500 * 10) / 1e6, 12); // $0.012
    expect(costOf(UNCACHED, { requested: 'gpt-5.1' }, none)).toBeCloseTo(tablePrice('gpt-5.1', UNCACHED), 12);
    expect(costOf(CACHED, { requested: 'gpt-5.1' }, none)).toBeCloseTo(tablePrice('gpt-5.1', CACHED), 12);
    // Cached input is cheaper than the same input uncached.
    expect(costOf(CACHED, { requested: 'gpt-5.1' }, none)!).toBeLessThan(costOf({ ...CACHED, cachedInputTokens: 0 }, { requested: 'gpt-5.1' }, none)!);
    expect(costOf(UNCACHED, { requested: UNKNOWN }, none)).toBeNull();
    expect(priceKnown(UNKNOWN, none)).toBe(false);
    expect(priceKnown('gpt-5.1', none)).toBe(true);

    const own = loadPrices(pricesFile);
    expect(costOf(PRIVATE_USAGE, { requested: PRIVATE }, own)).toBeCloseTo(PRIVATE_CALL_USD, 12);
    expect(priceKnown(PRIVATE, own)).toBe(true);
    // The answering model is priced when it has a price; else the requested one.
    expect(costOf(PRIVATE_USAGE, { answering: 'gpt-5.1', requested: PRIVATE }, own)).toBeCloseTo(tablePrice('gpt-5.1', PRIVATE_USAGE), 12);
    expect(costOf(PRIVATE_USAGE, { answering: `${PRIVATE}:latest`, requested: PRIVATE }, own)).toBeCloseTo(PRIVATE_CALL_USD, 12);
    // An override replaces the table's price.
    const overridden = join(dir, 'override.json');
    writeFileSync(overridden, JSON.stringify({ models: { 'gpt-5.1': { input_mtok: 2, output_mtok: 20 } } }));
    expect(costOf(UNCACHED, { requested: 'gpt-5.1' }, loadPrices(overridden))).toBeCloseTo((12_000 * 2 + 800 * 20) / 1e6, 12);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ models: { x: { input_mtok: -1, output_mtok: 1 } } }));
    expect(() => loadPrices(bad)).toThrow(UsageError);
    expect(() => loadPrices(join(dir, 'missing.json'))).toThrow(/INFTY_PRICES: cannot read/);
    expect(formatUsd(0.0104)).toBe('$0.0104');
    expect(formatUsd(1.5)).toBe('$1.50');
  });

  it("the workflow code never carries the price table: it is the model activity's data", () => {
    const bundle = readFileSync(inject('workflowBundlePath'), 'utf8');
    expect(bundle).not.toContain('genai-prices');
    expect(bundle).not.toContain('cache_read_mtok');
  });

  it('a run on a priced model: cost per role and per run equals the table, in progress, goal, `infty show`, `infty goal` and the Web UI details', async () => {
    responder = scriptByRole({
      solver: [withUsage(tools(shell('echo hi > out.txt')), UNCACHED), withUsage(deliver('out.txt'), CACHED)],
      'verifier*': [withUsage(verdict('pass', ['out.txt is there']), VERIFIER)],
    });
    const { runId, outcome } = await h.run({ objective: 'Write out.txt', verifiers: ['verifier-alpha'], model: 'gpt-5.1' });
    expect(outcome.status).toBe('delivered');
    const solverUsd = tablePrice('gpt-5.1', UNCACHED) + tablePrice('gpt-5.1', CACHED);
    const verifierUsd = tablePrice('gpt-5.1', VERIFIER);
    const total = solverUsd + verifierUsd;
    const p = await h.infty.progress(runId);
    expect(p.roles.solver!.costUsd).toBeCloseTo(solverUsd, 12);
    expect(p.roles['verifier-alpha']!.costUsd).toBeCloseTo(verifierUsd, 12);
    expect(p.roles.director!.costUsd).toBe(0); // no calls: nothing spent, and nothing unknown
    expect(p.goal.costUsd).toBeCloseTo(total, 12);
    expect(p.goal.unpricedCalls).toBe(0);
    expect(p.goal.costBudgetUsd).toBeNull();

    const show = await runCli(['show', runId], cliEnv(h));
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`cost:      ${formatUsd(total)} (no cost budget)`);
    expect(show.stdout).toMatch(new RegExp(`solver .*\\${formatUsd(solverUsd)}`));
    const shown = JSON.parse((await runCli(['show', runId, '--json'], cliEnv(h))).stdout) as Progress;
    expect(shown.goal.costUsd).toBeCloseTo(total, 12);
    expect(shown.roles.solver!.costUsd).toBeCloseTo(solverUsd, 12);
    const goal = await runCli(['goal', runId], cliEnv(h));
    expect(goal.stdout).toContain(`cost:      ${formatUsd(total)}`);
    const goalJson = JSON.parse((await runCli(['goal', runId, '--json'], cliEnv(h))).stdout) as Goal;
    expect(goalJson.costUsd).toBeCloseTo(total, 12);

    const details = await h.client.workflow.getHandle(runId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(details.currentDetails).toContain(`**cost:** ${formatUsd(total)}`);
  });

  it('a model without a known price is "price unknown" with a null cost, never 0', async () => {
    responder = scriptByRole({ solver: [withUsage(tools(shell('echo hi > out.txt')), UNCACHED), withUsage(deliver('out.txt'), CACHED)] });
    const { runId, outcome } = await h.run({ objective: 'Write out.txt', verifiers: [], model: UNKNOWN });
    expect(outcome.status).toBe('delivered');
    const p = await h.infty.progress(runId);
    expect(p.roles.solver!.costUsd).toBeNull();
    expect(p.goal.costUsd).toBeNull();
    expect(p.goal.unpricedCalls).toBe(2);
    expect(p.goal.tokensUsed).toBeGreaterThan(0); // tokens are still counted

    const show = await runCli(['show', runId], cliEnv(h));
    expect(show.stdout).toContain('cost:      price unknown (2 model call(s)');
    expect(show.stdout).toMatch(/solver .*price unknown/);
    expect(show.stdout).not.toMatch(/cost: +\$0\b/);
    const goalJson = JSON.parse((await runCli(['goal', runId, '--json'], cliEnv(h))).stdout) as Goal;
    expect(goalJson.costUsd).toBeNull();
    expect(goalJson.unpricedCalls).toBe(2);
    const details = await h.client.workflow.getHandle(runId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(details.currentDetails).toContain('**cost:** price unknown (2 call(s))');
  });

  it('INFTY_PRICES prices a private model on the worker; the answering model is priced, else the requested one', async () => {
    responder = scriptByRole({
      solver: [
        withUsage(tools(shell('echo hi > out.txt')), PRIVATE_USAGE),
        { ...(withUsage(deliver('out.txt'), PRIVATE_USAGE) as Extract<ScriptedReply, { kind: 'message' }>), model: `${PRIVATE}:latest` },
      ],
    });
    const { runId, outcome } = await h.run({ objective: 'Write out.txt', verifiers: [], model: PRIVATE });
    expect(outcome.status).toBe('delivered');
    const p = await h.infty.progress(runId);
    expect(p.roles.solver!.answeringModel).toBe(`${PRIVATE}:latest`);
    expect(p.roles.solver!.costUsd).toBeCloseTo(2 * PRIVATE_CALL_USD, 12);
    expect(p.goal.costUsd).toBeCloseTo(2 * PRIVATE_CALL_USD, 12);
  });

  it('--cost-budget for a model without a known price, or a malformed one, exits 2 and starts nothing', async () => {
    const runId = uniqueId('cost-refused');
    const refused = await runCli(
      ['create', '--objective', 'x', '--run-id', runId, '--model', UNKNOWN, '--cost-budget', '1', '--no-verifiers', '--sandbox', 'none', '--detach'],
      cliEnv(h),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`price unknown for "${UNKNOWN}" (solver, director)`);
    expect(refused.stderr).toContain('nothing was started');
    await expect(h.client.workflow.getHandle(runId).describe()).rejects.toThrow(/not found/i);
    // Per-role models count: a priced default with one unpriced role is refused too.
    const oneRole = await runCli(
      [
        'create',
        '--objective',
        'x',
        '--run-id',
        runId,
        '--model',
        'gpt-5.1',
        '--director-model',
        UNKNOWN,
        '--cost-budget',
        '1',
        '--no-verifiers',
        '--sandbox',
        'none',
        '--detach',
      ],
      cliEnv(h),
    );
    expect(oneRole.code).toBe(2);
    expect(oneRole.stderr).toContain(`"${UNKNOWN}" (director)`);
    const malformed = await runCli(['create', '--objective', 'x', '--run-id', runId, '--model', 'gpt-5.1', '--cost-budget', 'lots', '--detach'], cliEnv(h));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--cost-budget must be a positive number of US dollars');
    const badFile = join(dir, 'broken.json');
    writeFileSync(badFile, '{"models": ');
    const broken = await runCli(['create', '--objective', 'x', '--run-id', runId, '--model', PRIVATE, '--cost-budget', '1', '--detach'], {
      ...cliEnv(h),
      INFTY_PRICES: badFile,
    });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('INFTY_PRICES');
    await expect(h.client.workflow.getHandle(runId).describe()).rejects.toThrow(/not found/i);
  });

  /** A Solver that keeps working (a tool call, then an idle message) and never delivers. */
  function neverDelivers(): Responder {
    let step = 0;
    return () => {
      step += 1;
      return withUsage(step % 2 === 1 ? tools(shell(`echo ${step}`)) : say('still working'), PRIVATE_USAGE);
    };
  }

  it('a cost budget ends the run budget_exhausted after the limit message and the bounded grace turns (`infty create --cost-budget`)', async () => {
    responder = neverDelivers();
    const runId = uniqueId('cost-budget');
    const created = await runCli(
      ['create', '--objective', 'Never finishes', '--run-id', runId, '--model', PRIVATE, '--cost-budget', '0.025', '--no-verifiers', '--sandbox', 'none'],
      { ...cliEnv(h), INFTY_PRICES: pricesFile },
      120_000,
    );
    expect(created.code, created.stderr).toBe(1);
    const outcome = await h.infty.result(runId);
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status !== 'delivered' && outcome.reason).toMatch(
      /^cost budget of \$0\.025 reached \(\$0\.\d+ spent\) and the Solver did not deliver within 3 further turn/,
    );
    const reqs = h.model.requests.filter((r) => r.runId === runId);
    const notices = developerTexts(reqs[reqs.length - 1]!).filter((t) => t.startsWith('# Cost budget reached'));
    expect(notices).toHaveLength(1); // sent once
    // Reached with the third call ($0.0312), shown with the next step.
    expect(notices[0]).toContain(`- Cost: ${formatUsd(3 * PRIVATE_CALL_USD)} of $0.025`);
    expect(notices[0]).toContain('- Tokens used: 2100 of none');
    const goal = await h.infty.goal(runId);
    expect(goal.status).toBe('budget_limited');
    expect(goal.costUsd).toBeCloseTo(reqs.length * PRIVATE_CALL_USD, 12);
    expect(goal.costBudgetUsd).toBe(0.025);
    expect(goal.remainingCostUsd).toBe(0);
    const p = await h.infty.progress(runId);
    expect(p.events.filter((e) => e.kind === 'budget_limited').map((e) => e.message)[0]).toBe(
      `cost budget reached: ${formatUsd(3 * PRIVATE_CALL_USD)} of $0.025 spent`,
    );
    expect(created.stdout).toContain('cost:        [');
  });

  it('a cost budget bounds the overshoot in model calls too; raising it reactivates the goal', async () => {
    responder = neverDelivers();
    const { runId, outcome } = await h.run({
      objective: 'Never finishes',
      verifiers: [],
      model: PRIVATE,
      costBudgetUsd: 0.025,
      budgetGraceTurns: 50,
      budgetGraceModelCalls: 2,
    });
    expect(outcome.status).toBe('budget_exhausted');
    expect(outcome.status !== 'delivered' && outcome.reason).toMatch(/^cost budget of \$0\.025 reached .* and the 2 model calls allowed after it are spent$/);
    // The call that reached it (the third), then the two allowed; the sixth is not made.
    expect(h.model.requests.filter((r) => r.runId === runId)).toHaveLength(5);

    responder = neverDelivers();
    const raised = uniqueId('cost-raised');
    await h.infty.startRun({
      runId: raised,
      objective: 'x',
      verifiers: [],
      model: PRIVATE,
      costBudgetUsd: 0.015,
      sandbox: 'none',
      budgetGraceTurns: 50,
      budgetGraceModelCalls: 50,
    });
    for (let i = 0; i < 200 && (await h.infty.goal(raised)).status !== 'budget_limited'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await h.infty.goal(raised)).statusReason).toBe('cost budget of $0.015 reached');
    // Without INFTY_PRICES this CLI knows no price for the run's model: refused, nothing changed.
    const unpriced = await runCli(['budget', raised, '5', '--cost'], cliEnv(h));
    expect(unpriced.code).toBe(2);
    expect(unpriced.stderr).toContain(`price unknown for "${PRIVATE}" (solver)`);
    expect((await h.infty.goal(raised)).status).toBe('budget_limited');
    const budget = await runCli(['budget', raised, '5', '--cost'], { ...cliEnv(h), INFTY_PRICES: pricesFile });
    expect(budget.code, budget.stderr).toBe(0);
    expect(budget.stdout).toContain(`cost budget of ${raised} set to $5.00`);
    expect((await h.infty.goal(raised)).status).toBe('active');
    await h.client.workflow.getHandle(raised).cancel();
  });
});
