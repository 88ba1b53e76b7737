/**
 * An MCP call interrupted by a worker SIGKILL (failpoint `tool.afterSideEffect`: the server did the
 * call, the journal still says `started`): a tool without hints is reported interrupted and never
 * sent again; an `idempotentHint` tool is simply called again (docs/architecture.md decisions 2, 16).
 * And a stdio server does not outlive a SIGKILLed worker, even one that ignores its stdin closing
 * and SIGTERM; the next worker starts it again (docs/behaviour.md §7.6).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INTERRUPTED_OUTPUT } from '../src/activities/tools/journal';
import { InftyClient } from '../src/client';
import { type FakeModelServer, type Responder, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { MCP_TEST_SERVER, solverOutputs } from './support/mcp';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, say, tools } from './support/replies';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, workerEnv } from './support/workerProcess';
import { isAlive, waitFor } from './tools/support/processes';

const TEST_SERVER = MCP_TEST_SERVER;

describe('MCP calls and worker crashes', () => {
  let model: FakeModelServer;
  let responder: Responder;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    model = await startFakeModelServer({ responder: (req) => responder(req) });
  });
  afterAll(async () => {
    await killAllStartedWorkers();
    for (const fn of cleanups.reverse()) await fn();
    await model?.close();
    removePinnedWorkflowBundle();
  });

  for (const c of [
    { tool: 'count', log: 'count.log', expectedCalls: 1, interrupted: true },
    { tool: 'bump', log: 'bump.log', expectedCalls: 2, interrupted: false },
  ]) {
    it(`${c.tool}: ${c.interrupted ? 'no hints → reported interrupted, not re-sent' : 'idempotentHint → called again'}`, { timeout: 180_000 }, async () => {
      const home = mkdtempSync(join(tmpdir(), 'infty-mcp-crash-'));
      cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      const taskQueue = uniqueId('tq-mcp-crash');
      const env = workerEnv({ address: inject('temporalAddress'), taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_WORKER_ID: `mcp-crash-${c.tool}` });
      const infty = await InftyClient.connect({ address: inject('temporalAddress'), namespace: 'default', taskQueue });
      cleanups.push(() => infty.close());
      const workers = new WorkerGroup();
      cleanups.push(() => workers.killAll());
      responder = scriptByRole({
        solver: [
          tools({ name: `mcp__svc__${c.tool}`, arguments: c.tool === 'count' ? { note: 'once' } : { key: 'k' } }),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
      });
      const runId = uniqueId('mcp-crash');
      const doomed = await workers.start({ ...env, INFTY_FAILPOINTS: 'tool.afterSideEffect' });
      await infty.startRun({
        runId,
        objective: 'call once',
        verifiers: [],
        sandbox: 'none',
        mcpServers: [{ name: 'svc', command: [process.execPath, TEST_SERVER, 'ok', home] }],
      });
      const exit = await doomed.exited;
      expect(exit.signal, doomed.output()).toBe('SIGKILL');
      expect(doomed.output()).toContain('failpoint tool.afterSideEffect');
      const lines = () => readFileSync(join(home, c.log), 'utf8').split('\n').filter(Boolean);
      expect(lines()).toHaveLength(1); // the server did the call before the worker died

      await workers.start(env);
      const outcome = await infty.result(runId);
      expect(outcome.status).toBe('delivered');
      expect(lines()).toHaveLength(c.expectedCalls);
      const out = solverOutputs(model.requests, runId);
      expect(out[0]?.name).toBe(`mcp__svc__${c.tool}`);
      if (c.interrupted) expect(out[0]?.output).toBe(INTERRUPTED_OUTPUT);
      else expect(out[0]?.output).toBe('bumped k');
    });
  }

  it('a stdio server ends with its SIGKILLed worker (helper process too); the next worker starts it again for the next call', {
    timeout: 180_000,
  }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'infty-mcp-kill-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const taskQueue = uniqueId('tq-mcp-kill');
    const env = workerEnv({ address: inject('temporalAddress'), taskQueue, home, modelBaseUrl: model.baseUrl }, { INFTY_WORKER_ID: 'mcp-kill' });
    const infty = await InftyClient.connect({ address: inject('temporalAddress'), namespace: 'default', taskQueue });
    cleanups.push(() => infty.close());
    const workers = new WorkerGroup();
    cleanups.push(() => workers.killAll());
    let seen!: () => void;
    const firstRequest = new Promise<void>((resolve) => (seen = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(() => release());
    responder = scriptByRole({
      solver: [
        // The first worker's step waits here until the worker is dead; its answer goes nowhere.
        async () => {
          seen();
          await released;
          return say('never read');
        },
        tools({ name: 'mcp__svc__peek', arguments: { key: 'k' } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const runId = uniqueId('mcp-kill');
    const doomed = await workers.start(env);
    await infty.startRun({
      runId,
      objective: 'peek after a crash',
      verifiers: [],
      sandbox: 'none',
      mcpServers: [{ name: 'svc', command: [process.execPath, TEST_SERVER, 'stubborn', home] }],
    });
    await firstRequest; // the tools were listed: the server runs
    const starts = () => readFileSync(join(home, 'starts.log'), 'utf8').split('\n').filter(Boolean).map(Number);
    const [server] = starts();
    const helper = Number(readFileSync(join(home, 'helper.pid'), 'utf8'));
    expect(isAlive(server!)).toBe(true);
    expect(isAlive(helper)).toBe(true);

    await doomed.kill();
    expect(await waitFor(() => !isAlive(server!) && !isAlive(helper), 5_000), `server ${server} or helper ${helper} outlived the worker`).toBe(true);
    release();

    await workers.start(env);
    const outcome = await infty.result(runId);
    expect(outcome.status).toBe('delivered');
    expect(starts()).toHaveLength(2);
    const restarted = starts()[1]!;
    expect(solverOutputs(model.requests, runId)[0]).toEqual({ name: 'mcp__svc__peek', output: `peeked k (server pid ${restarted})` });
    await workers.killAll();
    expect(await waitFor(() => !isAlive(restarted), 5_000)).toBe(true);
  });
});
