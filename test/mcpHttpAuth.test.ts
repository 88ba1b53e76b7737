/**
 * Streamable-HTTP MCP servers with authentication (docs/behaviour.md §7.6, docs/interface.md §1):
 * `bearerTokenEnvVar`, `httpHeaders` and `envHttpHeaders` name worker environment variables whose
 * values the worker reads when it connects, so they never reach the run input, the history or
 * run.json. A scripted server (test/support/mcpAuthServer.ts) refuses requests without the token.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMcpTool, type FrozenMcpTool } from '../src/activities/mcp/tools';
import { McpServerSchema } from '../src/protocol/mcp';
import type { Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { decodedHistoryText } from './support/history';
import { offered, solverOutputs } from './support/mcp';
import { type AuthMcpServer, startAuthMcpServer } from './support/mcpAuthServer';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';

// Names the generic secret scrubber does not take for secrets (no TOKEN, KEY, SECRET…).
const ENV = {
  INFTY_TEST_MCP_BEARER: 'bearer-VALUE-31337-do-not-leak',
  INFTY_TEST_MCP_TENANT: 'tenant-acme-4242',
  INFTY_TEST_MCP_WRONG: 'not-the-bearer-value',
};

/** Every file under `dir`, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

describe('MCP over streamable HTTP with authentication', () => {
  let h: Harness;
  let responder: Responder;
  let server: AuthMcpServer;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    delete process.env.INFTY_TEST_MCP_UNSET;
    server = await startAuthMcpServer(ENV.INFTY_TEST_MCP_BEARER);
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => {
    await h?.close();
    await server?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('the right token: the tools answer; a wrong token and an unset variable: clear failures, the run delivers; no value in history, run.json or requests', {
    timeout: 120_000,
  }, async () => {
    responder = scriptByRole({
      solver: [
        tools({ name: 'mcp__auth__whoami', arguments: {} }, { name: 'mcp__auth__echo-auth', arguments: {} }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const runId = uniqueId('mcp-auth');
    const { outcome } = await h.run({
      runId,
      objective: 'call the authenticated server',
      verifiers: [],
      mcpServers: [
        {
          name: 'auth',
          url: server.url,
          bearerTokenEnvVar: 'INFTY_TEST_MCP_BEARER',
          httpHeaders: { 'X-Static': 'static-value' },
          envHttpHeaders: { 'X-Tenant': 'INFTY_TEST_MCP_TENANT' },
        },
        { name: 'wrong', url: server.url, bearerTokenEnvVar: 'INFTY_TEST_MCP_WRONG', timeoutSecs: 10 },
        { name: 'unset', url: server.url, bearerTokenEnvVar: 'INFTY_TEST_MCP_UNSET' },
      ],
    });
    expect(outcome.status).toBe('delivered');

    const out = Object.fromEntries(solverOutputs(h.model.requests, runId).map((o) => [o.name, o.output]));
    // The server got both headers; what it echoes of a variable's value is scrubbed, though the
    // variable's name does not look secret.
    expect(out.mcp__auth__whoami).toBe('x-static=static-value x-tenant=[REDACTED:INFTY_TEST_MCP_TENANT]');
    expect(out['mcp__auth__echo-auth']).toBe('authorization: Bearer [REDACTED:INFTY_TEST_MCP_BEARER]');

    const progress = await h.infty.progress(runId);
    const failed = progress.events.filter((e) => e.kind === 'mcp_server_failed').map((e) => e.message);
    expect(failed).toHaveLength(2);
    expect(failed.find((m) => m.startsWith('MCP server wrong:'))).toMatch(
      /^MCP server wrong: it did not start: .*invalid or missing bearer token.*\(HTTP 401\)$/,
    );
    expect(failed.find((m) => m.startsWith('MCP server unset:'))).toBe(
      "MCP server unset: it did not start: the worker's environment variable INFTY_TEST_MCP_UNSET (bearerTokenEnvVar) is not set",
    );
    expect(server.refused).toBeGreaterThanOrEqual(1);
    const first = h.model.requests.find((r) => r.runId === runId && r.role === 'solver');
    expect(
      offered(first)
        .filter((t) => t.name.startsWith('mcp__'))
        .map((t) => t.name),
    ).toEqual(['mcp__auth__whoami', 'mcp__auth__echo-auth']);
    expect(JSON.stringify(first?.body.input)).toContain('INFTY_TEST_MCP_UNSET');

    const history = await decodedHistoryText(h.client, runId);
    expect(history).toContain('INFTY_TEST_MCP_BEARER'); // the variable's name is in the input…
    const runJson = readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8');
    const requests = JSON.stringify(h.model.requests.filter((r) => r.runId === runId));
    const onDisk = allText(h.home);
    for (const value of [ENV.INFTY_TEST_MCP_BEARER, ENV.INFTY_TEST_MCP_TENANT, ENV.INFTY_TEST_MCP_WRONG]) {
      // …its value nowhere.
      expect(history).not.toContain(value);
      expect(runJson).not.toContain(value);
      expect(onDisk).not.toContain(value);
      expect(requests).not.toContain(value);
    }
  });

  it('a call whose variable is not set on this worker: a clear tool error naming it', { timeout: 30_000 }, async () => {
    const entry = McpServerSchema.parse({ name: 'later', url: server.url, envHttpHeaders: { 'X-Tenant': 'INFTY_TEST_MCP_UNSET' } });
    const tool: FrozenMcpTool = {
      name: 'mcp__later__whoami',
      server: 'later',
      tool: 'whoami',
      description: '',
      parameters: { type: 'object', properties: {} },
      readOnly: true,
      idempotent: false,
    };
    const result = await callMcpTool(uniqueId('mcp-auth-call'), { tool, server: entry }, '{}');
    expect(result).toEqual({
      type: 'error',
      kind: 'error_output',
      message:
        "MCP server later did not start, so mcp__later__whoami was not run: the worker's environment variable INFTY_TEST_MCP_UNSET (envHttpHeaders X-Tenant) is not set",
    });
  });
});
