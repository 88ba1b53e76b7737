/**
 * MCP servers as tools (docs/behaviour.md §7.6, docs/architecture.md decision 17), on the suite's
 * real Temporal server with a scripted model: the real `@modelcontextprotocol/server-everything`
 * (stdio, from node_modules), and a scripted misbehaving server (test/support/mcpTestServer.mjs).
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli';
import type { Responder } from './support/fakeModel';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { decodedHistoryText } from './support/history';
import { MCP_TEST_SERVER, offered, solverOutputs } from './support/mcp';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools, verdict } from './support/replies';

const TEST_SERVER = MCP_TEST_SERVER;
const EVERYTHING = join(__dirname, '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

describe('MCP servers as tools', () => {
  let h: Harness;
  let responder: Responder;
  const saved: Record<string, string | undefined> = {};
  const ENV = { MY_SERVICE_TOKEN: 'tok-MCP-SECRET-98765', INFTY_MCP_PASSED: 'passed-to-the-server' };
  let state: string;

  beforeAll(async () => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    state = mkdtempSync(join(tmpdir(), 'infty-mcp-state-'));
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(state, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('server-everything: the Solver calls echo and gets its answer; Verifiers are offered only its readOnlyHint tools', { timeout: 120_000 }, async () => {
    responder = scriptByRole({
      solver: [
        tools({ name: 'mcp__everything__echo', arguments: { message: 'hello from infty' } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
      'verifier*': [verdict('pass')],
    });
    const { runId, outcome } = await h.run({
      objective: 'use the echo tool',
      verifiers: ['verifier-a'],
      mcpServers: [{ name: 'everything', command: [process.execPath, EVERYTHING, 'stdio'] }],
    });
    expect(outcome.status).toBe('delivered');
    const outputs = solverOutputs(h.model.requests, runId);
    expect(outputs[0]?.name).toBe('mcp__everything__echo');
    expect(outputs[0]?.output).toContain('hello from infty');

    const frozen = JSON.parse(readFileSync(join(h.home, 'mcp', runId, 'tools.json'), 'utf8')) as {
      tools: { name: string; readOnly: boolean; strict?: boolean }[];
    };
    const names = frozen.tools.map((t) => t.name);
    expect(names).toContain('mcp__everything__echo');
    for (const n of names) expect(n).toMatch(/^mcp__everything__[A-Za-z0-9_-]+$/);

    const solverReq = h.model.requests.find((r) => r.runId === runId && r.role === 'solver');
    const solverTools = offered(solverReq);
    expect(solverTools.map((t) => t.name)).toEqual(['shell', 'apply_patch', 'read_file', 'list_dir', 'update_plan', ...names]);
    // Strict exactly where the frozen schema allows it; the table's own tools stay non-strict.
    for (const t of frozen.tools) expect(solverTools.find((s) => s.name === t.name)?.strict).toBe(t.strict === true);
    expect(solverTools.find((t) => t.name === 'shell')?.strict).toBe(false);

    const verifierReq = h.model.requests.find((r) => r.runId === runId && r.role === 'verifier-a');
    const readOnly = frozen.tools.filter((t) => t.readOnly).map((t) => t.name);
    expect(offered(verifierReq).map((t) => t.name)).toEqual(['read_file', 'list_dir', ...readOnly]);
    expect(readOnly.length).toBeLessThan(names.length);
  });

  it('streamable HTTP: server-everything by URL answers echo; an unreachable URL is a failed server and the run goes on', { timeout: 120_000 }, async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`server-everything did not listen:\n${err}`)), 30_000);
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('listening on port')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      responder = scriptByRole({
        solver: [
          tools({ name: 'mcp__remote__echo', arguments: { message: 'over http' } }),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
      });
      const { runId, outcome } = await h.run({
        objective: 'echo over http',
        verifiers: [],
        mcpServers: [
          { name: 'remote', url: `http://127.0.0.1:${port}/mcp` },
          { name: 'gone', url: 'http://127.0.0.1:9/mcp', timeoutSecs: 5 },
        ],
      });
      expect(outcome.status).toBe('delivered');
      expect(solverOutputs(h.model.requests, runId)[0]).toEqual({ name: 'mcp__remote__echo', output: 'Echo: over http' });
      const progress = await h.infty.progress(runId);
      expect(
        progress.events
          .filter((e) => e.kind === 'mcp_server_failed')
          .map((e) => e.message)
          .join('\n'),
      ).toMatch(/^MCP server gone: it did not start: /);
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    }
  });

  it('misbehaving servers: fails to start, hangs, crashes mid-call, answers 5 MB, answers an error — each a clear tool error; the run delivers', {
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(state, 'bad-'));
    responder = scriptByRole({
      solver: [
        tools(
          { name: 'mcp__bad__hang', arguments: { note: 'x' } },
          { name: 'mcp__bad__crash', arguments: {} },
          { name: 'mcp__bad__big', arguments: {} },
          { name: 'mcp__bad__fail', arguments: {} },
          { name: 'mcp__bad__peek', arguments: { key: 'k' } },
        ),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
      'verifier*': [verdict('pass')],
    });
    const { runId, outcome } = await h.run({
      objective: 'survive bad servers',
      verifiers: ['verifier-a'],
      mcpServers: [
        { name: 'bad', command: [process.execPath, TEST_SERVER, 'ok', dir], timeoutSecs: 4 },
        { name: 'dead', command: [process.execPath, TEST_SERVER, 'fail-start', dir] },
      ],
    });
    expect(outcome.status).toBe('delivered');
    const out = Object.fromEntries(solverOutputs(h.model.requests, runId).map((o) => [o.name, o.output]));
    expect(out.mcp__bad__hang).toMatch(/^Error: the MCP tool hang of server bad did not answer within 4 s/);
    expect(out.mcp__bad__crash).toMatch(/^Error: MCP server bad exited during the call of crash/);
    expect(out.mcp__bad__crash).toContain('crashing on purpose');
    expect(out.mcp__bad__fail).toBe('Error: the MCP tool fail of server bad answered an error: the widget store is locked');
    // 5 MB bounded like every tool output: head and tail, about 10 KiB.
    const big = out.mcp__bad__big!;
    expect(big).toMatch(/^Total output lines: 1\n\nBIG-START x/);
    expect(big).toMatch(/\[… \d+ bytes truncated …\]/);
    expect(big.endsWith('BIG-END')).toBe(true);
    expect(Buffer.byteLength(big)).toBeLessThan(12_000);
    // After the crash the server was started again, and answers.
    expect(out.mcp__bad__peek).toMatch(/^peeked k \(server pid \d+\)$/);
    expect(lines(join(dir, 'starts.log')).length).toBeGreaterThanOrEqual(4); // dead once, bad: listing, after the timeout, after the crash

    // The server that never started: an event, and the Solver told at its first step.
    const progress = await h.infty.progress(runId);
    const failed = progress.events.filter((e) => e.kind === 'mcp_server_failed');
    expect(failed.map((e) => e.message).join('\n')).toMatch(/MCP server dead: it did not start: .*configuration file is missing/s);
    const first = JSON.stringify(h.model.requests.find((r) => r.runId === runId && r.role === 'solver')?.body.input);
    expect(first).toContain('Some MCP servers are unavailable');
    expect(first).toContain('dead');
    expect(offered(h.model.requests.find((r) => r.runId === runId && r.role === 'solver')).some((t) => t.name.startsWith('mcp__dead__'))).toBe(false);
    // The Verifier is offered the one readOnlyHint tool; bump (idempotentHint only) and the rest are the Solver's.
    expect(offered(h.model.requests.find((r) => r.runId === runId && r.role === 'verifier-a')).map((t) => t.name)).toEqual([
      'read_file',
      'list_dir',
      'mcp__bad__peek',
    ]);

    // Outputs went by reference: the 5 MB answer never reached the history.
    const history = await decodedHistoryText(h.client, runId);
    expect(history).not.toContain('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    expect(history.length).toBeLessThan(200_000);
  });

  it("infty run --mcp NAME=COMMAND… with $INFTY_HOME/mcp.json: the flag's and the file's servers both reach the run", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(state, 'cli-'));
    const config = join(h.home, 'mcp.json');
    writeFileSync(config, JSON.stringify({ servers: { filed: { command: process.execPath, args: [TEST_SERVER, 'ok', dir] } } }));
    responder = scriptByRole({
      solver: [
        tools({ name: 'mcp__filed__peek', arguments: { key: 'from-file' } }, { name: 'mcp__flagged__peek', arguments: { key: 'from-flag' } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const runId = uniqueId('mcp-cli');
    try {
      const r = await runCli(
        [
          'run',
          '--run-id',
          runId,
          '--sandbox',
          'none',
          '--no-verifiers',
          '--json',
          '--mcp',
          `flagged=${process.execPath} '${TEST_SERVER}' ok ${dir}`,
          'use both servers',
        ],
        cliEnv(h),
        120_000,
      );
      expect(r.code, r.stderr).toBe(0);
    } finally {
      rmSync(config, { force: true });
    }
    const out = Object.fromEntries(solverOutputs(h.model.requests, runId).map((o) => [o.name, o.output]));
    expect(out.mcp__filed__peek).toMatch(/^peeked from-file /);
    expect(out.mcp__flagged__peek).toMatch(/^peeked from-flag /);
    const bad = await runCli(['run', '--sandbox', 'none', '--mcp', 'no equals sign', 'x'], cliEnv(h), 60_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--mcp takes NAME=COMMAND');
  });

  it('a server that crashed and then does not start again: the next call is a clear tool error; the run delivers', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(state, 'once-'));
    responder = scriptByRole({
      solver: [
        tools({ name: 'mcp__flaky__crash', arguments: {} }, { name: 'mcp__flaky__peek', arguments: { key: 'k' } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const { runId, outcome } = await h.run({
      objective: 'x',
      verifiers: [],
      mcpServers: [{ name: 'flaky', command: [process.execPath, TEST_SERVER, 'once', dir] }],
    });
    expect(outcome.status).toBe('delivered');
    const out = Object.fromEntries(solverOutputs(h.model.requests, runId).map((o) => [o.name, o.output]));
    expect(out.mcp__flaky__crash).toMatch(/^Error: MCP server flaky exited during the call of crash/);
    expect(out.mcp__flaky__peek).toMatch(/^Error: MCP server flaky did not start, so mcp__flaky__peek was not run: .*configuration file is missing/s);
  });

  it("a stdio server gets the allow-listed environment plus its named variables, never the worker's secrets", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(state, 'env-'));
    responder = scriptByRole({
      solver: [tools({ name: 'mcp__bad__env', arguments: {} }), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
    });
    const { outcome } = await h.run({
      objective: 'report the environment',
      verifiers: [],
      mcpServers: [{ name: 'bad', command: [process.execPath, TEST_SERVER, 'ok', dir], env: ['INFTY_MCP_PASSED'] }],
    });
    expect(outcome.status).toBe('delivered');
    const env = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as Record<string, string>;
    expect(env.INFTY_MCP_PASSED).toBe(ENV.INFTY_MCP_PASSED);
    expect(env.PATH).toBe(process.env.PATH);
    expect(Object.values(env)).not.toContain(ENV.MY_SERVICE_TOKEN);
    expect(Object.values(env)).not.toContain('test-key');
    expect(Object.keys(env).filter((k) => /TOKEN|KEY|SECRET|TEMPORAL|INFTY_(?!MCP_PASSED)/.test(k))).toEqual([]);
  });
});

describe('MCP tools on the Chat Completions wire', () => {
  let h: Harness;
  let responder: Responder;
  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req), wireApi: 'chat' });
  });
  afterAll(async () => h?.close());

  it("server-everything: tools sent as functions, strict where the schema allows; the Solver gets get-sum's answer", { timeout: 120_000 }, async () => {
    responder = scriptByRole({
      solver: [
        tools({ name: 'mcp__everything__get-sum', arguments: { a: 2, b: 40 } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'infty-mcp-chat-'));
    const { runId, outcome } = await h.run({
      objective: 'add',
      verifiers: [],
      mcpServers: [
        { name: 'everything', command: [process.execPath, EVERYTHING] },
        { name: 'svc', command: [process.execPath, TEST_SERVER, 'ok', dir] },
      ],
    });
    rmSync(dir, { recursive: true, force: true });
    expect(outcome.status).toBe('delivered');
    const solver = h.model.requests.filter((r) => r.runId === runId && r.role === 'solver');
    const fns = (solver[0]?.body.tools ?? []) as { function: { name: string; strict?: boolean } }[];
    const frozen = JSON.parse(readFileSync(join(h.home, 'mcp', runId, 'tools.json'), 'utf8')) as { tools: { name: string; strict?: boolean }[] };
    for (const t of frozen.tools) expect(fns.find((f) => f.function.name === t.name)?.function.strict === true, t.name).toBe(t.strict === true);
    // server-everything's schemas leave additionalProperties open: non-strict; the test server's closed ones are strict.
    expect(frozen.tools.find((t) => t.name === 'mcp__everything__get-sum')?.strict).toBeUndefined();
    expect(frozen.tools.find((t) => t.name === 'mcp__svc__peek')?.strict).toBe(true);
    expect(frozen.tools.find((t) => t.name === 'mcp__svc__hang')?.strict).toBeUndefined();
    const messages = (solver[solver.length - 1]?.body.messages ?? []) as { role: string; content?: string }[];
    expect(messages.find((m) => m.role === 'tool')?.content).toMatch(/42/);
  });
});
