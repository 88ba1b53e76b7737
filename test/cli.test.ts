import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/server';
import { runCli } from './support/cli';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, deliver, say, tools, verdict } from './support/replies';

/** Preloaded into the CLI: counts the Temporal connections it opens and closes, printed at exit. */
const CONNECTION_COUNTER = `
const root = ${JSON.stringify(join(__dirname, '..'))};
const load = (m) => require(require.resolve(m, { paths: [root] }));
const counts = { opened: 0, closed: 0 };
for (const [pkg, name] of [['@temporalio/client', 'Connection'], ['@temporalio/worker', 'NativeConnection']]) {
  const cls = load(pkg)[name];
  const connect = cls.connect;
  cls.connect = async function (...args) { const c = await connect.apply(this, args); counts.opened++; return c; };
  const close = cls.prototype.close;
  cls.prototype.close = function (...args) { counts.closed++; return close.apply(this, args); };
}
process.on('exit', () => process.stderr.write('temporal connections: ' + JSON.stringify(counts) + '\\n'));
`;

describe('the infty CLI', () => {
  let h: Harness;
  let script: RoleScriptResponder;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => script(req) });
    env = cliEnv(h);
  });
  afterAll(async () => h?.close());

  it('has --help for every command of docs/interface.md', async () => {
    for (const cmd of [
      'run',
      'create',
      'list',
      'show',
      'watch',
      'goal',
      'pause',
      'resume',
      'budget',
      'steer',
      'cancel',
      'verify',
      'fork',
      'worker',
      'server',
      'demo',
    ]) {
      const r = await runCli([cmd, '--help'], env);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: infty ${cmd}`);
    }
  });

  it('exits 3 with the address and how to start a server when Temporal is unreachable', async () => {
    const port = await freePort();
    for (const args of [['list'], ['create', '--objective', 'x', '--detach']]) {
      const r = await runCli(args, { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain(`cannot reach Temporal at 127.0.0.1:${port}`);
      expect(r.stderr).toContain('infty server');
    }
  });

  it('create --json follows the run and prints exactly one JSON document: the outcome (exit 0)', async () => {
    script = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt', 'made a')], verifier: [verdict('pass')] });
    const runId = uniqueId('cli');
    const r = await runCli(['create', '--objective', 'Make a', '--run-id', runId, '--verifier', 'verifier', '--sandbox', 'none', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect(outcome).toMatchObject({ runId, status: 'delivered', summary: 'made a' });

    const dup = await runCli(['create', '--objective', 'again', '--run-id', runId, '--json'], env);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    expect(dup.stdout).toBe('');

    const show = await runCli(['show', runId, '--json'], env);
    expect(show.code).toBe(0);
    const progress = JSON.parse(show.stdout);
    expect(progress).toMatchObject({ runId, status: 'delivered', phase: 'finished', goal: { status: 'complete' } });
    expect(progress.runJson).toMatchObject({ run_id: runId, status: 'delivered' });
    expect(progress.roles.solver.turns).toBe(1);
    expect(progress.events.map((e: { kind: string }) => e.kind)).toContain('verdict');
    expect(progress.versioning).toBeNull();

    const human = await runCli(['show', runId], env);
    expect(human.stdout).toMatch(/phase:\s+finished/);
    expect(human.stdout).toContain('version:   unversioned\n');

    const list = await runCli(['list', '--json'], env);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout);
    expect(rows.find((x: { runId: string }) => x.runId === runId)).toMatchObject({ runStatus: 'delivered', goalStatus: 'complete' });

    const goal = await runCli(['goal', runId, '--json'], env);
    expect(JSON.parse(goal.stdout)).toMatchObject({ objective: 'Make a', status: 'complete' });
  });

  it('run prints events and a summary; a run that is not delivered exits 1', async () => {
    script = scriptByRole({ solver: [say('{bad'), say('{bad'), say('{bad')] });
    const runId = uniqueId('cli');
    const r = await runCli(['run', 'Impossible', '--run-id', runId, '--no-verifiers', '--sandbox', 'none'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('objective_posted');
    expect(r.stdout).toContain('malformed_signal');
    expect(r.stdout).toContain(`Run ${runId}: failed`);
  });

  it('create --detach --json prints {runId, status: "started"}', async () => {
    script = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    const runId = uniqueId('cli');
    const r = await runCli(['create', '--objective', 'x', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--detach', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ runId, status: 'started' });
    expect((await h.infty.result(runId)).status).toBe('delivered');
  });

  it('exits 3 and starts nothing when the model endpoint is unreachable (worker in this process)', async () => {
    const port = await freePort();
    const runId = uniqueId('nomodel');
    const r = await runCli(['create', '--objective', 'x', '--run-id', runId, '--sandbox', 'none', '--json'], {
      ...env,
      INFTY_TASK_QUEUE: uniqueId('lonely'),
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach the model endpoint http://127.0.0.1:${port}/v1`);
    expect(r.stdout).toBe('');
    expect(await h.infty.exists(runId)).toBe(false);
  });

  it('watch prints plain lines when not a terminal and exits when the run ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    script = scriptByRole({
      solver: [
        tools(addFile('deliverable/a.txt', ['a'])),
        async () => {
          await gate;
          return deliver('deliverable/a.txt', 'watched');
        },
      ],
    });
    const runId = uniqueId('watch');
    await h.infty.startRun({ runId, objective: 'Watch me', verifiers: [], sandbox: 'none', tokenBudget: 1_000_000 });
    // The Solver's second step waits until watch has shown the run in progress (a fixed delay lost that race on a loaded machine).
    const r = await runCli(['watch', runId], env, 60_000, {
      onStdout: (out) => {
        if (out.includes('-- phase solving')) release();
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\x1b['); // no terminal redraws when piped
    expect(r.stdout).toMatch(/-- phase solving \(solver\); goal active; \[#*\.*\] [\d,]+ \/ 1,000,000 tokens/);
    expect(r.stdout).toContain('tool_call');
    expect(r.stdout).toContain(`Run ${runId}: delivered`);
  });

  it('refuses bad input with exit 2 and starts nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['create', '--objective', 'x', '--run-id', '.bad'], /must not start or end/],
      [['create', '--objective', 'x', '--token-budget', 'abc'], /--token-budget must be a positive whole number/],
      [['create', '--objective', 'x', '--token-budget', '-5'], /--token-budget must be a positive whole number/],
      [['create', '--objective', '   '], /objective is required/],
      [['create', '--objective', 'x', '--sandbox', 'maybe'], /Allowed choices are auto, none/],
      [['show', 'no-such-run'], /no run with id "no-such-run"/],
      [['goal', 'no-such-run'], /no run with id "no-such-run"/],
      [['budget', 'no-such-run', '100'], /no run with id "no-such-run"/],
      [['budget', 'whatever', 'lots'], /must be a positive whole number/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('starts a worker in-process when none polls the task queue', async () => {
    script = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    const runId = uniqueId('cli');
    const r = await runCli(['create', '--objective', 'x', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--json'], {
      ...env,
      INFTY_TASK_QUEUE: uniqueId('lonely'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('started a worker in this process');
    expect(JSON.parse(r.stdout).status).toBe('delivered');
  });

  it('opens exactly one Temporal connection per command and closes it, shared with a worker in this process', async () => {
    const preload = join(h.home, 'count-connections.cjs');
    writeFileSync(preload, CONNECTION_COUNTER);
    const counted = { ...env, NODE_OPTIONS: `--require ${preload}` };
    const one = 'temporal connections: {"opened":1,"closed":1}';
    const create = (runId: string) => ['create', '--objective', 'x', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--json'];
    script = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    const lonely = await runCli(create(uniqueId('conn')), { ...counted, INFTY_TASK_QUEUE: uniqueId('lonely') });
    expect(lonely.code, lonely.stderr).toBe(0);
    expect(lonely.stderr).toContain('started a worker in this process');
    expect(lonely.stderr).toContain(one);

    script = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    const runId = uniqueId('conn');
    const commands = [
      create(runId),
      ['list', '--json'],
      ['show', runId, '--json'],
      ['goal', runId],
      ['watch', runId],
      // refused (exit 2): the run has ended, which takes a connection to learn
      ['pause', runId],
      ['budget', runId, '100'],
      ['steer', runId, 'hi'],
      ['cancel', runId],
      // fleet control: the listing and the action share the command's one connection
      ['list', '--where', `WorkflowId = '${runId}'`],
      ['pause', '--where', `WorkflowId = '${runId}'`],
    ];
    for (const args of commands) {
      const r = await runCli(args, counted);
      expect(r.stderr, args.join(' ')).toContain(one);
    }
  });
});
