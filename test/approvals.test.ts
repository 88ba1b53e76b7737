/**
 * Approvals (issue 20, part 2; docs/behaviour.md §7.8): a call the policy gates waits for a person
 * durably — phase `awaiting_approval`, an event, the Web UI's details, the memo `infty approvals`
 * reads without a worker — through a worker SIGKILL, a server restart and a pause; `infty approve`
 * and `infty deny` are updates whose validators refuse an unknown or already decided call (exit 2);
 * `--approval-timeout` denies; an approved escalation gets network and stays write-confined; under
 * `never` nothing waits and nothing of it enters history.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import type { Progress } from '../src/protocol/progress';
import type { RunInputRaw } from '../src/protocol/runInput';
import { type DevServerHandle, freePort, startDevServer } from '../src/server';
import { runCli } from './support/cli';
import { type FakeModelServer, type Responder, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { patchIds } from './support/history';
import { MCP_TEST_SERVER, solverOutputs } from './support/mcp';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';
import { inTerminal } from './support/terminal';
import { until } from './support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, type WorkerEnv, WorkerGroup, workerEnv } from './support/workerProcess';

type Call = { name: string; callId: string; arguments: Record<string, unknown> };
const sh = (callId: string, script: string, escalate?: string): Call => ({
  name: 'shell',
  callId,
  arguments: { command: ['bash', '-c', script], ...(escalate ? { sandbox_permissions: 'require_escalated', justification: escalate } : {}) },
});

describe('approvals', () => {
  const responders = new Map<string, Responder>();
  const homes: string[] = [];
  const clients: InftyClient[] = [];
  let model: FakeModelServer;
  let modelPort: number;

  beforeAll(async () => {
    model = await startFakeModelServer({ responder: (req) => responders.get(req.runId ?? '')?.(req) ?? { kind: 'message', text: 'ok' } });
    modelPort = Number(new URL(model.baseUrl).port);
  });
  afterAll(async () => {
    await killAllStartedWorkers();
    for (const c of clients) await c.close();
    await model?.close();
    removePinnedWorkflowBundle();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  async function setUp(prefix: string, solver: Parameters<typeof scriptByRole>[0]['solver'], address = inject('temporalAddress')) {
    const home = mkdtempSync(join(tmpdir(), `infty-${prefix}-`));
    homes.push(home);
    const taskQueue = uniqueId(`tq-${prefix}`);
    const env: WorkerEnv = workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_WORKER_ID: `w-${prefix}` });
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    clients.push(infty);
    const runId = uniqueId(prefix);
    responders.set(runId, scriptByRole({ solver }));
    const workers = new WorkerGroup();
    const start = (extra: Partial<RunInputRaw>) => infty.startRun({ runId, objective: 'do it', verifiers: [], approval: 'on-request', ...extra });
    // What a user's shell would have: this run's server, queue and home, and the model for a CLI that runs a worker.
    const cliEnv = { TEMPORAL_ADDRESS: address, INFTY_TASK_QUEUE: taskQueue, INFTY_HOME: home, OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'test' };
    const cli = (...args: string[]) => runCli(args, { ...cliEnv, INFTY_WORKER_ID: `w-${prefix}` });
    const waiting = (callId: string) =>
      until(
        `${callId} waits for approval`,
        async () => {
          const listed = await infty.list(5, { where: `WorkflowId = '${runId}'`, memo: true });
          const pending = listed[0]?.memo?.inftyApprovals as { callId: string }[] | undefined;
          return listed[0]?.phase === 'awaiting_approval' && pending?.some((p) => p.callId === callId) ? listed[0] : undefined;
        },
        60_000,
      );
    return { home, env, cliEnv, infty, runId, workers, start, cli, waiting };
  }

  const outputOf = (runId: string, name = 'shell') => solverOutputs(model.requests, runId).filter((o) => o.name === name);

  it('on-request: an escalation waits through a worker SIGKILL, is listed without a worker, approved by CLI: network on, writes still confined', {
    timeout: 180_000,
  }, async () => {
    // Not under /tmp: the sandbox gives a command a private /tmp, so a write there proves nothing.
    const outside = mkdtempSync('/var/tmp/infty-outside-');
    homes.push(outside);
    const script = `(exec 3<>/dev/tcp/127.0.0.1/${modelPort}) 2>/dev/null && echo NET-OK || echo NET-NONE; touch ${outside}/probe 2>&1 | sed 's/^.*: //'; echo ran > ran.txt`;
    const t = await setUp('appr-kill', [
      tools(sh('call_net', script, 'fetch the dependency list')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    const first = await t.workers.start(t.env);
    await t.start({});
    await t.waiting('call_net');
    const progress: Progress = await t.infty.progress(t.runId);
    expect(progress.phase).toBe('awaiting_approval');
    expect(progress.approvals?.pending).toMatchObject([{ callId: 'call_net', tool: 'shell', kind: 'escalation', justification: 'fetch the dependency list' }]);
    expect(progress.events.map((e) => e.kind)).toContain('approval_requested');
    const details = await t.infty.client.workflow.getHandle(t.runId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(details.currentDetails).toContain('**Waiting for approval:** shell (asks for network access)');

    const shown = await t.cli('show', t.runId);
    expect(shown.stdout).toContain('approval:  on-request');
    expect(shown.stdout).toContain(`waiting: call_net shell: ${script} (why: fetch the dependency list) — infty approve ${t.runId} call_net`);

    await first.kill();
    const listed = await t.cli('approvals');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${t.runId}  call_net  shell (asks for network access)`);
    expect(listed.stdout).toContain('why: fetch the dependency list');
    const json = JSON.parse((await t.cli('approvals', '--json', '--where', `WorkflowId = '${t.runId}'`)).stdout) as { callId: string; command: string }[];
    expect(json).toMatchObject([{ callId: 'call_net', command: script }]);
    expect(existsSync(join(t.home, 'runs', t.runId, 'ran.txt')), 'nothing ran before the approval').toBe(false);

    await t.workers.start(t.env);
    const approved = await t.cli('approve', t.runId, 'call_net');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approved ${t.runId} call_net (shell)`);
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    const out = outputOf(t.runId)[0]!.output;
    expect(out).toContain('NET-OK');
    expect(out).toContain('Read-only file system');
    expect(existsSync(join(outside, 'probe'))).toBe(false);
    expect(readFileSync(join(t.home, 'runs', t.runId, 'ran.txt'), 'utf8')).toBe('ran\n');
    const after = await t.cli('approve', t.runId, 'call_net');
    expect(after.code).toBe(2);
  });

  it('deny with a reason: the Solver reads it as the output, nothing ran; deciding twice or an unknown call is refused (exit 2) while the run goes on', {
    timeout: 180_000,
  }, async () => {
    const t = await setUp('appr-deny', [
      tools(sh('call_1', 'echo one > one.txt', 'needs the network')),
      tools(sh('call_2', 'echo two > two.txt', 'really needs it')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    await t.start({});
    await t.waiting('call_1');
    const noCallId = await t.cli('deny', t.runId, 'call_1', '--reason', '   ');
    expect(noCallId.code).toBe(2);
    const denied = await t.cli('deny', t.runId, 'call_1', '--reason', 'not on this machine');
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toContain(`denied ${t.runId} call_1 (shell): not on this machine`);
    await t.waiting('call_2');
    const twice = await t.cli('deny', t.runId, 'call_1');
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('call call_1 was already decided (denied at');
    const again = await t.cli('approve', t.runId, 'call_1');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already decided');
    const unknown = await t.cli('approve', t.runId, 'call_nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no call call_nope waits for approval');
    expect(unknown.stderr).toContain('waiting: call_2');
    expect((await t.cli('approve', t.runId)).code).toBe(0); // every waiting call: call_2
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    const outs = outputOf(t.runId);
    expect(outs[0]!.output).toContain("was denied (the user's reason: not on this machine). It was not run.");
    expect(existsSync(join(t.home, 'runs', t.runId, 'one.txt'))).toBe(false);
    expect(existsSync(join(t.home, 'runs', t.runId, 'two.txt'))).toBe(true);
    const decided = (await t.infty.progress(t.runId)).approvals?.decided.map((d) => [d.callId, d.verdict]);
    expect(decided).toEqual([
      ['call_1', 'denied'],
      ['call_2', 'approved'],
    ]);
  });

  it('--approval-timeout: nobody answers, the call is denied with that reason and the run goes on', { timeout: 120_000 }, async () => {
    const t = await setUp('appr-timeout', [
      tools(sh('call_t', 'echo t > t.txt', 'please')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    await t.start({ approvalTimeoutSecs: 2 });
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    expect(outputOf(t.runId)[0]!.output).toContain('was denied (nobody approved it within 2 s (--approval-timeout)). It was not run.');
    expect(existsSync(join(t.home, 'runs', t.runId, 't.txt'))).toBe(false);
    const p = await t.infty.progress(t.runId);
    expect(p.approvals?.decided).toMatchObject([{ callId: 'call_t', verdict: 'timed_out' }]);
    expect(p.events.some((e) => e.kind === 'approval_decided' && e.message.includes('timed out'))).toBe(true);
  });

  it('never (the default): an escalation is refused with a message, not run, and nothing of approvals enters history', { timeout: 120_000 }, async () => {
    const t = await setUp('appr-never', [
      tools(sh('call_n', 'echo n > n.txt', 'please')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    await t.start({ approval: undefined });
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    expect(outputOf(t.runId)[0]!.output).toContain('no person approved it');
    expect(existsSync(join(t.home, 'runs', t.runId, 'n.txt'))).toBe(false);
    const history = await t.infty.client.workflow.getHandle(t.runId).fetchHistory();
    expect(patchIds(history.events ?? [])).not.toContain('approvals');
    expect((await t.infty.progress(t.runId)).events.map((e) => e.kind)).not.toContain('approval_requested');
  });

  it('untrusted: read-only commands and readOnlyHint MCP tools run at once; other commands and MCP tools wait', { timeout: 180_000 }, async () => {
    const t = await setUp('appr-untrusted', [
      tools(sh('call_ls', 'ls -la && cat /etc/hostname | head -n 1')),
      tools(sh('call_write', 'echo w > w.txt')),
      tools({ name: 'mcp__svc__peek', callId: 'call_peek', arguments: { key: 'k' } }),
      tools({ name: 'mcp__svc__count', callId: 'call_count', arguments: { note: 'n' } }),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    await t.start({ approval: 'untrusted', sandbox: 'none', mcpServers: [{ name: 'svc', command: [process.execPath, MCP_TEST_SERVER, 'ok', t.home] }] });
    await t.waiting('call_write');
    expect((await t.cli('approve', t.runId, 'call_write')).code).toBe(0);
    await t.waiting('call_count');
    expect((await t.cli('approve', t.runId)).code).toBe(0);
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    const requested = (await t.infty.progress(t.runId)).events.filter((e) => e.kind === 'approval_requested').map((e) => e.message.split(':')[0]);
    expect(requested).toEqual(['shell is not on the read-only safe list', 'mcp__svc__count is not on the read-only safe list']);
    expect(readFileSync(join(t.home, 'count.log'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a pause while waiting: the approval is taken, the call runs only after resume', { timeout: 120_000 }, async () => {
    const t = await setUp('appr-pause', [
      tools(sh('call_p', 'echo p > p.txt', 'please')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    await t.start({});
    await t.waiting('call_p');
    await t.infty.pause(t.runId);
    expect((await t.cli('approve', t.runId, 'call_p')).code).toBe(0);
    await until('the approved call waits for the resume', async () => ((await t.infty.progress(t.runId)).phase === 'paused' ? true : undefined));
    expect(existsSync(join(t.home, 'runs', t.runId, 'p.txt'))).toBe(false);
    await t.infty.resume(t.runId);
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    expect(existsSync(join(t.home, 'runs', t.runId, 'p.txt'))).toBe(true);
  });

  it('infty create follows a waiting call as a hold: prints what waits and the commands, goes on once approved; --exit-on-hold exits 4', {
    timeout: 180_000,
  }, async () => {
    const t = await setUp('appr-follow', [
      tools(sh('call_f', 'echo f > f.txt', 'fetch it')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    const env = t.cliEnv;
    const held = await runCli(
      ['create', '--run-id', t.runId, '--objective', 'do it', '--no-verifiers', '--approval', 'on-request', '--exit-on-hold'],
      env,
      90_000,
    );
    expect(held.code, held.stderr).toBe(4);
    expect(held.stdout).toContain(`run ${t.runId} waits for a person: shell call call_f asks for network access:`);
    expect(held.stdout).toContain('why: fetch it');
    expect(held.stdout).toContain(`infty approve ${t.runId} call_f`);
    let approving: ReturnType<typeof runCli> | undefined;
    const watched = await runCli(['watch', t.runId], env, 90_000, {
      onStdout: (soFar) => {
        if (!approving && soFar.includes(`infty approve ${t.runId} call_f`)) approving = t.cli('approve', t.runId, 'call_f');
      },
    });
    expect((await approving)?.code).toBe(0);
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expect(watched.stdout).toContain(`run ${t.runId} is no longer held`);
    expect(existsSync(join(t.home, 'runs', t.runId, 'f.txt'))).toBe(true);
  });

  it('a run cancelled while a call waits: nothing is listed as waiting any more, and the call never ran', { timeout: 120_000 }, async () => {
    const t = await setUp('appr-cancel', [tools(sh('call_c', 'echo c > c.txt', 'please')), deliver('deliverable/a.txt')]);
    await t.workers.start(t.env);
    await t.start({});
    await t.waiting('call_c');
    const described = await t.infty.describe(t.runId);
    expect(described.raw.pendingActivities ?? [], 'the wait holds no activity').toEqual([]);
    expect((await t.cli('cancel', t.runId)).code).toBe(0);
    expect((await t.infty.result(t.runId)).status).toBe('cancelled');
    const p = await t.infty.progress(t.runId);
    expect(p.approvals?.pending).toEqual([]);
    expect(p.approvals?.decided).toMatchObject([{ callId: 'call_c', verdict: 'denied', reason: 'the run ended (cancelled) before anyone decided' }]);
    // The server drops a memo field upserted empty: either way nothing is listed as waiting.
    expect((await t.infty.describe(t.runId)).memo?.inftyApprovals ?? []).toEqual([]);
    expect((await t.cli('approvals', '--where', `WorkflowId = '${t.runId}'`)).stdout).toContain('nothing waits for approval');
    expect(existsSync(join(t.home, 'runs', t.runId, 'c.txt'))).toBe(false);
  });

  it('infty run on a terminal asks where the user sits: n with a reason denies, y approves, Enter leaves it waiting', { timeout: 180_000 }, async () => {
    const t = await setUp('appr-tty', [
      tools(sh('call_d', 'echo d > d.txt', 'first')),
      tools(sh('call_y', 'echo y > y.txt', 'second')),
      tools(sh('call_w', 'echo w > w.txt', 'third')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    const env = t.cliEnv;
    const term = inTerminal(['run', '--run-id', t.runId, '--no-verifiers', '--approval', 'on-request', 'do it'], env);
    const prompted = (callId: string) =>
      until(`the prompt for ${callId}`, () => (term.output().includes(`approve ${callId}? [y]es / [n]o / Enter: decide later`) ? true : undefined), 60_000);
    await prompted('call_d');
    term.type('n\r');
    await until('the reason question', () => (term.output().includes('reason for the Solver') ? true : undefined));
    term.type('no network here\r');
    await prompted('call_y');
    term.type('y\r');
    await prompted('call_w');
    term.type('\r');
    await until('left waiting', () => (term.output().includes(`left waiting; decide later with: infty approve ${t.runId} call_w`) ? true : undefined));
    expect((await t.cli('approve', t.runId, 'call_w')).code).toBe(0);
    const exit = await term.exited;
    expect(exit.code, term.output()).toBe(0);
    expect(term.output()).toContain('denied call_d: no network here');
    expect(term.output()).toContain('approved call_y');
    const outs = outputOf(t.runId);
    expect(outs[0]!.output).toContain("the user's reason: no network here");
    expect(existsSync(join(t.home, 'runs', t.runId, 'd.txt'))).toBe(false);
    expect(existsSync(join(t.home, 'runs', t.runId, 'y.txt'))).toBe(true);
    expect(existsSync(join(t.home, 'runs', t.runId, 'w.txt'))).toBe(true);
  });

  it('Ctrl+C at the terminal prompt stops following as anywhere else (exit 130); the call stays waiting and is approved later', {
    timeout: 180_000,
  }, async () => {
    const t = await setUp('appr-ctrlc', [
      tools(sh('call_c', 'echo c > c.txt', 'please')),
      tools(addFile('deliverable/a.txt', ['a'])),
      deliver('deliverable/a.txt'),
    ]);
    await t.workers.start(t.env);
    const term = inTerminal(['run', '--run-id', t.runId, '--no-verifiers', '--approval', 'on-request', 'do it'], t.cliEnv);
    await until('the prompt', () => (term.output().includes('approve call_c? [y]es / [n]o / Enter: decide later') ? true : undefined), 60_000);
    const pressed = Date.now();
    term.type('\x03');
    const exit = await term.exited;
    expect(exit.code, term.output()).toBe(130);
    expect(exit.at - pressed).toBeLessThan(10_000);
    expect(term.output()).toContain(`infty watch ${t.runId}`);
    expect(term.output()).not.toContain('approved call_c');
    expect(term.output()).not.toContain('denied call_c');
    await t.waiting('call_c');
    expect(existsSync(join(t.home, 'runs', t.runId, 'c.txt'))).toBe(false);
    expect((await t.cli('approve', t.runId, 'call_c')).code).toBe(0);
    expect((await t.infty.result(t.runId)).status).toBe('delivered');
    expect(existsSync(join(t.home, 'runs', t.runId, 'c.txt'))).toBe(true);
  });

  it('the wait survives a restart of the Temporal server', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infty-appr-restart-'));
    homes.push(dir);
    const port = await freePort();
    const dbFile = join(dir, 'temporal.db');
    let server: DevServerHandle = await startDevServer({ port, dbFile, headless: true });
    try {
      const t = await setUp(
        'appr-restart',
        [tools(sh('call_r', 'echo r > r.txt', 'please')), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
        server.address,
      );
      await t.workers.start(t.env);
      await t.start({});
      await t.waiting('call_r');
      await server.stop();
      server = await startDevServer({ port, dbFile, headless: true });
      await t.waiting('call_r');
      const approved = await until(
        'the worker is back and takes the approval',
        async () => {
          const r = await t.cli('approve', t.runId, 'call_r');
          return r.code === 0 || r.stderr.includes('already decided') ? r : undefined;
        },
        60_000,
      );
      expect(approved.stdout + approved.stderr).toContain('approved');
      expect((await t.infty.result(t.runId)).status).toBe('delivered');
      expect(existsSync(join(t.home, 'runs', t.runId, 'r.txt'))).toBe(true);
      await t.workers.killAll();
    } finally {
      await server.stop();
    }
  });
});
