/**
 * Fleet control (docs/interface.md §1 "Fleet control"): `infty list|pause|resume|budget|cancel
 * --where QUERY` against twelve held runs of this file's own task queue, four of them "heavy"
 * (InftyTokensUsed above HEAVY_ABOVE). Visibility is eventually consistent, so the tests poll
 * `infty list --where … --json` until it shows what they expect, never sleep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { addFile, tools, withUsage } from './support/replies';
import { until } from './support/wait';

const RUNS = 12;
const HEAVY = 4;
const HEAVY_ABOVE = 10_000;

describe('fleet control with --where', () => {
  let h: Harness;
  let env: Record<string, string>;
  const runIds: string[] = [];
  const heavy = new Set<string>();
  let mine: string; // the marker that keeps other files' runs out of every query
  let heavyQuery: string;

  const list = async (where: string) => {
    const r = await runCli(['list', '--where', where, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { runId: string; goalStatus: string | null; tokensUsed: number | null; status: string }[];
  };
  /** Polls the visibility store until `where` matches exactly `expected`. */
  const listed = (where: string, expected: Iterable<string>) =>
    until(
      `visibility to list ${where}`,
      async () => {
        const ids = (await list(where)).map((r) => r.runId).sort();
        return JSON.stringify(ids) === JSON.stringify([...expected].sort()) ? ids : undefined;
      },
      30_000,
    );
  const goals = async () => Object.fromEntries(await Promise.all(runIds.map(async (id) => [id, await h.infty.goal(id)] as const)));

  beforeAll(async () => {
    const held = new Map<string, number>();
    h = await startHarness({
      // Each run's Solver: one tool call that reports its usage, then a model call that never answers.
      responder: (req) => {
        const n = held.get(req.runId ?? '') ?? 0;
        held.set(req.runId ?? '', n + 1);
        if (n > 0) return { kind: 'fault', fault: { kind: 'hang' } };
        const inputTokens = heavy.has(req.runId ?? '') ? 50_000 : 100;
        return withUsage(tools(addFile('notes.txt', ['x'])), { inputTokens, outputTokens: 10 });
      },
    });
    env = { TEMPORAL_ADDRESS: h.address, INFTY_TASK_QUEUE: h.taskQueue, INFTY_HOME: h.home, INFTY_RUNS_ROOT: h.runsRoot };
    mine = `TaskQueue = '${h.taskQueue}'`;
    heavyQuery = `${mine} AND InftyTokensUsed > ${HEAVY_ABOVE}`;
    const prefix = uniqueId('fleet');
    for (let i = 0; i < RUNS; i++) {
      const runId = `${prefix}-${String(i).padStart(2, '0')}`;
      runIds.push(runId);
      if (i % 3 === 0) heavy.add(runId); // 0, 3, 6, 9
    }
    expect(heavy.size).toBe(HEAVY);
    await Promise.all(runIds.map((runId) => h.infty.startRun({ runId, objective: 'Hold on', verifiers: [], sandbox: 'none' })));
    await listed(heavyQuery, heavy);
    await listed(`${mine} AND InftyTokensUsed > 0`, runIds);
  });

  afterAll(async () => {
    await Promise.all(
      runIds.map((id) =>
        h?.client.workflow
          .getHandle(id)
          .terminate('fleet test done')
          .catch(() => undefined),
      ),
    );
    await h?.close();
  });

  it("list --where lists only the matching runs; an invalid query is exit 2 with the server's reason", async () => {
    const rows = await list(heavyQuery);
    expect(rows.map((r) => r.runId).sort()).toEqual([...heavy].sort());
    expect(rows.every((r) => r.tokensUsed! > HEAVY_ABOVE && r.status === 'running')).toBe(true);

    const human = await runCli(['list', '--where', heavyQuery], env);
    expect(human.code).toBe(0);
    for (const id of runIds) expect(human.stdout.includes(id), id).toBe(heavy.has(id));

    for (const args of [['list'], ['pause'], ['budget']]) {
      const bad = await runCli([...args, '--where', `${mine} AND NoSuchAttribute = 1`, ...(args[0] === 'budget' ? ['5'] : [])], env);
      expect(bad.code, args[0]).toBe(2);
      expect(bad.stderr, args[0]).toMatch(/invalid query.*NoSuchAttribute/);
    }
    const syntax = await runCli(['list', '--where', `${mine} AND (`], env);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('the server refused the query');
  });

  it('refuses a run id with --where, and --json/--yes without it; zero matches is exit 0', async () => {
    for (const args of [
      ['pause', runIds[0]!, '--where', mine],
      ['budget', runIds[0]!, '100', '--where', mine],
      ['cancel', runIds[0]!, '--where', mine],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('either a run id or --where');
    }
    const json = await runCli(['pause', runIds[0]!, '--json'], env);
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('go with --where');

    const none = await runCli(['resume', '--where', `${mine} AND InftyTokensUsed > 1000000000`], env);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('no runs match');
    const noneJson = await runCli(['cancel', '--where', `${mine} AND InftyTokensUsed > 1000000000`, '--json'], env);
    expect(noneJson.code).toBe(0);
    expect(JSON.parse(noneJson.stdout)).toMatchObject({ matched: [], action: 'cancel', results: { method: 'none', total: 0 } });
    expect(Object.values(await goals()).every((g) => g.status === 'active')).toBe(true);
  });

  it('more than ten matches without --yes and without a terminal: exit 2, nothing changed', async () => {
    const r = await runCli(['pause', '--where', mine], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/12 runs match \(more than 10\); add --yes/);
    const j = await runCli(['budget', '--where', mine, '5', '--json'], env);
    expect(j.code).toBe(2);
    expect(j.stdout).toBe('');
    expect(j.stderr).toContain('add --yes');
    const after = await goals();
    expect(Object.values(after).every((g) => g.status === 'active' && g.tokenBudget === null)).toBe(true);
  });

  it('pause --where pauses exactly the matching runs; resume --where --json resumes them', async () => {
    const r = await runCli(['pause', '--where', `${heavyQuery} AND InftyGoalStatus = 'active'`], env);
    expect(r.code, r.stderr).toBe(0);
    for (const id of runIds) expect(r.stdout.includes(id), id).toBe(heavy.has(id));
    expect(r.stdout).toMatch(/paused 4 of 4 runs \(Temporal batch operation infty-pause-/);
    const g = await goals();
    for (const id of runIds) expect(g[id]!.status, id).toBe(heavy.has(id) ? 'paused' : 'active');

    await listed(`${mine} AND InftyGoalStatus = 'paused'`, heavy);
    const resumed = await runCli(['resume', '--where', `${mine} AND InftyGoalStatus = 'paused'`, '--json'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = JSON.parse(resumed.stdout);
    expect(doc).toMatchObject({
      query: `${mine} AND InftyGoalStatus = 'paused'`,
      action: 'resume',
      results: { method: 'batch', state: 'completed', total: 4, succeeded: 4, failed: 0 },
    });
    expect(doc.matched.map((m: { runId: string }) => m.runId).sort()).toEqual([...heavy].sort());
    expect(doc.matched[0]).toMatchObject({ status: 'running', goalStatus: 'paused' });
    expect(doc.results.jobId).toMatch(/^infty-resume-/);
    expect(Object.values(await goals()).every((x) => x.status === 'active')).toBe(true);
    await listed(`${mine} AND InftyGoalStatus = 'active'`, runIds);
  });

  it('budget --where sets the budget of the matching runs only, reporting each run', async () => {
    const r = await runCli(['budget', '--where', heavyQuery, '9000000', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ action: 'budget', tokenBudget: 9_000_000, results: { method: 'each', total: 4, succeeded: 4, failed: 0 } });
    expect(doc.results.runs.map((x: { runId: string; ok: boolean }) => [x.runId, x.ok]).sort()).toEqual([...heavy].sort().map((id) => [id, true]));
    const g = await goals();
    for (const id of runIds) expect(g[id]!.tokenBudget, id).toBe(heavy.has(id) ? 9_000_000 : null);

    const cleared = await runCli(['budget', '--where', heavyQuery, 'none'], env);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(cleared.stdout).toContain('budget set to none on 4 of 4 runs');
    expect(Object.values(await goals()).every((x) => x.tokenBudget === null)).toBe(true);
  });

  it('--yes acts on more than ten; cancel --where cancels exactly the matching runs', async () => {
    const all = await runCli(['pause', '--where', mine, '--yes'], env);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('paused 12 of 12 runs');
    expect(Object.values(await goals()).every((x) => x.status === 'paused')).toBe(true);
    await listed(`${mine} AND InftyGoalStatus = 'paused'`, runIds);
    expect((await runCli(['resume', '--where', mine, '--yes'], env)).code).toBe(0);

    const r = await runCli(['cancel', '--where', heavyQuery], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('cancellation requested for 4 of 4 runs');
    for (const id of heavy) expect((await h.infty.result(id)).status, id).toBe('cancelled');
    for (const id of runIds.filter((x) => !heavy.has(x))) expect((await h.infty.describe(id)).status.name, id).toBe('RUNNING');
    // Ended runs no longer match: the query considers running runs only.
    await listed(
      `${mine} AND ExecutionStatus = 'Running'`,
      runIds.filter((x) => !heavy.has(x)),
    );
    const again = await runCli(['cancel', '--where', heavyQuery], env);
    expect(again.stdout).toContain('no runs match');
  });
});
