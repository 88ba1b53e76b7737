/**
 * Issue 19's smaller fixes: `--version`; run.json names only transcripts that exist; `show` names
 * the model that answered; the plan shown as last reported; a cancelled run's goal in `list`;
 * budget messages that mention "none"; `--help` with examples and environment; `--network on|off`.
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPlan, listedGoalStatus } from '../src/cli/render';
import { demoResponder } from '../src/demo/demoModel';
import type { Progress } from '../src/protocol/progress';
import { runCli } from './support/cli';
import { type FakeModelServer, type Responder, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, say, shell, tools, verdict } from './support/replies';
import { until } from './support/wait';
import { callWire, endpointFor, WIRE_VARIANTS, wireRequest } from './support/wireCall';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The reply, answered in the name of `model` (the response's `model` field). */
const answeredAs = (reply: ScriptedReply, model: string): ScriptedReply =>
  reply.kind === 'message' || reply.kind === 'tool_calls' ? { ...reply, model } : reply;

/** Every string in `value` (deeply) that is an absolute path. */
function absolutePaths(value: unknown): string[] {
  if (typeof value === 'string') return value.startsWith('/') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(absolutePaths);
  if (value && typeof value === 'object') return Object.values(value).flatMap(absolutePaths);
  return [];
}

describe('issue 19: the smaller fixes', () => {
  let h: Harness;
  let responder: Responder = () => say('unused');
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
    env = cliEnv(h);
  });
  afterAll(async () => h?.close());

  it('infty --version and -V print the package version, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  });

  it('every command has --help with an example and the environment variables it reads', { timeout: 180_000 }, async () => {
    const root = await runCli(['--help'], env);
    const commands = root.stdout
      .split('Commands:')[1]!
      .split('\n')
      .map((l) => /^ {2}([a-z]+)/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined && c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['run', 'create', 'list', 'show', 'watch', 'goal', 'budget', 'worker', 'demo', 'diff', 'apply']));
    const reads: Record<string, string[]> = {
      run: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'INFTY_MODEL', 'INFTY_HOME', 'TEMPORAL_ADDRESS'],
      create: ['OPENAI_API_KEY', 'INFTY_MODEL', 'TEMPORAL_ADDRESS'],
      worker: ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'INFTY_MODEL', 'INFTY_HOME', 'TEMPORAL_ADDRESS'],
      list: ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'INFTY_TASK_QUEUE', 'INFTY_HOME'],
      show: ['TEMPORAL_ADDRESS', 'INFTY_TASK_QUEUE', 'INFTY_HOME'],
      goal: ['TEMPORAL_ADDRESS', 'INFTY_TASK_QUEUE'],
      diff: ['INFTY_HOME', 'INFTY_RUNS_ROOT'],
    };
    // Four at a time: each is a Node process loading the CLI.
    const results: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < commands.length; i += 4) results.push(...(await Promise.all(commands.slice(i, i + 4).map((cmd) => runCli([cmd, '--help'], env)))));
    commands.forEach((cmd, i) => {
      const r = results[i]!;
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/\nExamples?:\n {2}\$ (\S+=\S+ )*infty /);
      expect(r.stdout, cmd).toMatch(/\nEnvironment:\n {2}[A-Z_]+/);
      for (const variable of reads[cmd] ?? []) expect(r.stdout, `${cmd} --help names ${variable}`).toContain(variable);
    });
    for (const cmd of ['run', 'create', 'watch']) expect(results[commands.indexOf(cmd)]!.stdout, cmd).toContain('--exit-on-hold');
  });

  it('budget messages say the value must be a positive whole number or "none"', async () => {
    for (const args of [
      ['budget', 'some-run', 'abc'],
      ['create', '--objective', 'x', '--token-budget', 'abc'],
      ['run', 'x', '--token-budget', '0'],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/must be a positive whole number .*"none"/);
    }
  });

  it('run.json names only transcript files that exist once a run with verifiers is delivered', async () => {
    // Both Verifiers pass (each is rotated to a fresh generation that is never written); the Director is never asked.
    responder = scriptByRole({
      solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
      'verifier-alpha': [verdict('pass')],
      'verifier-beta': [verdict('pass')],
    });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: ['verifier-alpha', 'verifier-beta'] });
    expect(outcome.status).toBe('delivered');
    const runJson = JSON.parse(readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8'));
    const paths = absolutePaths(runJson);
    for (const p of paths) expect(existsSync(p), `run.json names ${p}`).toBe(true);
    const rollout = (role: string) => runJson.roles.find((r: { role: string }) => r.role === role)?.rollout_path;
    const transcripts = join(h.home, 'transcripts', runId);
    expect(rollout('solver')).toBe(join(transcripts, 'solver.jsonl'));
    // The conversation each Verifier passed in, not the fresh one it would have started next.
    expect(rollout('verifier-alpha')).toBe(join(transcripts, 'verifier-alpha.jsonl'));
    expect(rollout('verifier-beta')).toBe(join(transcripts, 'verifier-beta.jsonl'));
    expect(rollout('director')).toBeNull();
    expect(paths).toEqual(expect.arrayContaining([rollout('solver'), rollout('verifier-alpha')]));
  });

  describe.each(WIRE_VARIANTS)('the $wireApi wire (stream: $stream)', (v) => {
    let server: FakeModelServer;
    afterAll(async () => server?.close());

    it("returns the model the endpoint's response names", async () => {
      server = await startFakeModelServer({ responder: () => ({ kind: 'message', text: 'hi', model: 'answering-model-7' }) });
      const result = await callWire(endpointFor(server.baseUrl, v), wireRequest(v.stream));
      expect(result.model).toBe('answering-model-7');
    });
  });

  it('show lists the model that answered next to the one requested, when they differ', async () => {
    responder = scriptByRole({
      solver: [answeredAs(tools(addFile('deliverable/a.txt', ['a'])), 'scripted-7'), answeredAs(deliver('deliverable/a.txt'), 'scripted-7')],
      verifier: [verdict('pass')], // answers as the model requested
    });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: ['verifier'] });
    expect(outcome.status).toBe('delivered');
    const json = await runCli(['show', runId, '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const progress = JSON.parse(json.stdout);
    expect(progress.roles.solver).toMatchObject({ model: 'fake-model', answeringModel: 'scripted-7' });
    expect(progress.roles.verifier).toMatchObject({ model: 'fake-model', answeringModel: 'fake-model' });
    const human = await runCli(['show', runId], env);
    expect(human.stdout).toMatch(/\n {2}solver .* fake-model \(answered: scripted-7\)\n/);
    expect(human.stdout).toMatch(/\n {2}verifier .* fake-model\n/);
  });

  it('the demo: show names the scripted endpoint as the model that answered, and the plan as last reported by the Solver of a delivered run', async () => {
    // The harness worker has no built-in demo endpoint: its model server answers with the demo's script.
    responder = demoResponder;
    const r = await runCli(['demo', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const { runId, status } = JSON.parse(r.stdout);
    expect(status).toBe('delivered');
    const human = await runCli(['show', runId], env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/\n {2}solver .* fake-model \(answered: infty-demo-scripted\)\n/);
    expect(human.stdout).toContain('\nplan (as last reported by the Solver; the run has since been delivered):\n  [>] Draft the haiku\n');
  });

  it('the plan of a running run is labelled as last reported by the Solver, without an end', () => {
    const p = {
      status: 'running',
      plan: {
        explanation: null,
        steps: [
          { step: 'Draft', status: 'in_progress' },
          { step: 'Ship', status: 'pending' },
        ],
      },
    } as unknown as Progress;
    expect(formatPlan(p)).toEqual(['plan (as last reported by the Solver):', '  [>] Draft', '  [ ] Ship']);
    expect(formatPlan({ ...p, status: 'cancelled' })[0]).toBe('plan (as last reported by the Solver; the run has since ended cancelled):');
    expect(formatPlan({ ...p, plan: { explanation: null, steps: [] } })).toEqual([]);
  });

  it("the GOAL column of an ended run says how it ended, not the goal's last paused/active", () => {
    expect(listedGoalStatus('paused', 'cancelled', 'cancelled')).toBe('cancelled');
    expect(listedGoalStatus('active', 'terminated', 'running')).toBe('terminated');
    expect(listedGoalStatus('active', 'timed_out', null)).toBe('timed_out');
    expect(listedGoalStatus('paused', 'completed', 'failed')).toBe('failed');
    expect(listedGoalStatus('paused', 'completed', undefined)).toBe('ended');
    expect(listedGoalStatus('paused', 'running', 'running')).toBe('paused');
    expect(listedGoalStatus('complete', 'completed', 'delivered')).toBe('complete');
    expect(listedGoalStatus('budget_limited', 'completed', 'budget_exhausted')).toBe('budget_limited');
    expect(listedGoalStatus(null, 'cancelled', undefined)).toBeNull();
  });

  it('list shows a cancelled run as cancelled in the GOAL column (its goal search attribute says paused)', async () => {
    responder = () => ({ kind: 'fault', fault: { kind: 'hang' } });
    const runId = uniqueId('cancel-list');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    await until('the model call', async () => h.model.requests.find((q) => q.runId === runId));
    await h.infty.cancel(runId);
    expect((await h.infty.result(runId)).status).toBe('cancelled');
    const where = ['--where', `WorkflowId = '${runId}'`];
    const row = await until('visibility to show the cancelled run', async () => {
      const r = await runCli(['list', ...where, '--json'], env);
      const entry = JSON.parse(r.stdout)[0];
      return entry?.status === 'cancelled' && entry.goalStatus === 'paused' ? entry : undefined;
    });
    expect(row).toMatchObject({ runStatus: 'cancelled', goalStatus: 'paused' }); // --json: the search attribute as stored
    const table = await runCli(['list', ...where], env);
    expect(table.code, table.stderr).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.startsWith(runId))!;
    const [, status, goal] = line.split(/\s+/);
    expect({ status, goal }).toEqual({ status: 'cancelled', goal: 'cancelled' });
  });

  describe('--network on|off', () => {
    let listener: net.Server;
    let port: number;
    beforeAll(async () => {
      listener = net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      port = (listener.address() as net.AddressInfo).port;
    });
    afterAll(async () => new Promise<void>((resolve) => listener.close(() => resolve())));

    it('anything but on or off is exit 2, nothing started', async () => {
      const runId = uniqueId('net-bad');
      const r = await runCli(['run', 'x', '--run-id', runId, '--network', 'yes'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--network must be "on" or "off".*got "yes"/);
      expect(await h.infty.exists(runId)).toBe(false);
    });

    /** The Solver's sandboxed command connects to a local TCP server; its result as the Solver's next request carried it. */
    async function connectFromSandbox(network: string[]): Promise<{ output: string; exitCode: number; allowNetwork: unknown }> {
      responder = scriptByRole({ solver: [tools(shell(`exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`)), deliver('deliverable')] });
      const runId = uniqueId('net');
      const r = await runCli(['create', '--objective', 'connect', '--run-id', runId, '--no-verifiers', '--sandbox', 'auto', ...network, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const second = h.model.requestsFor('solver').filter((q) => q.runId === runId)[1]!;
      const out = second.body.input.find((i: { type?: string }) => i.type === 'function_call_output').output as string;
      const parsed = JSON.parse(out) as { output: string; metadata: { exit_code: number } };
      const history = await h.client.workflow.getHandle(runId).fetchHistory();
      const started = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const input = JSON.parse(Buffer.from(started.data!).toString('utf8')) as { allowNetwork?: unknown };
      return { output: parsed.output, exitCode: parsed.metadata.exit_code, allowNetwork: input.allowNetwork };
    }

    it('--network on: the workflow input says allowNetwork, and a sandboxed command reaches a local server', async () => {
      const on = await connectFromSandbox(['--network', 'on']);
      expect(on).toEqual({ output: 'connected\n', exitCode: 0, allowNetwork: true });
    });

    it('--network off (the default): no network inside the sandbox', async () => {
      const off = await connectFromSandbox(['--network', 'off']);
      expect(off.allowNetwork).toBe(false);
      expect(off.exitCode).not.toBe(0);
      expect(off.output).not.toContain('connected');
      const byDefault = await connectFromSandbox([]);
      expect(byDefault.allowNetwork).toBeUndefined();
      expect(byDefault.exitCode).not.toBe(0);
    });
  });
});
