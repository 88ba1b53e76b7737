/**
 * What the convergence watchdog sees of a tool's output (docs/behaviour.md §3.7) is made from the
 * tool's result, not read back from its text: an output that merely says "Error:" or looks like
 * a shell result is digested by what the tool did.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRun } from '../../src/activities/mcp/pool';
import { callMcpTool, type FrozenMcpTool } from '../../src/activities/mcp/tools';
import type { ToolContext } from '../../src/activities/tools/context';
import { executeTool } from '../../src/activities/tools/index';
import { finalizeToolOutput } from '../../src/activities/tools/output';
import { McpServerSchema } from '../../src/protocol/mcp';
import { MCP_TEST_SERVER } from '../support/mcp';

const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

let runDir: string;
let ctx: ToolContext;
beforeAll(() => {
  runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-digest-')));
  ctx = { runDir, sandbox: 'none', allowNetwork: false };
});
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

describe('a shell result is digested by its exit code, whatever it printed', () => {
  const sh = (script: string) => executeTool('shell', JSON.stringify({ command: ['sh', '-c', script] }), ctx);

  it('output starting with "Error:": failed exactly when the command exits non-zero; never a tool error', async () => {
    const failing = await sh("printf 'Error: disk full\\n'; exit 3");
    expect(failing.digest).toEqual({ failed: true, fingerprint: sha12('3\nError: disk full\n') });
    expect(JSON.parse(failing.output)).toMatchObject({ output: 'Error: disk full\n', metadata: { exit_code: 3 } });
    const passing = await sh("printf 'Error: is only a word here\\n'");
    expect(passing.digest).toEqual({ failed: false, fingerprint: sha12('0\nError: is only a word here\n') });
  });

  it('output that looks like a shell result: its own exit code counts, not the one it printed', async () => {
    const lookalike = JSON.stringify({ output: 'fine', metadata: { exit_code: 0, duration_seconds: 0 } });
    const failing = await sh(`printf '%s' '${lookalike}'; exit 1`);
    expect(failing.digest).toEqual({ failed: true, fingerprint: sha12(`1\n${lookalike}`) });
    const failedLookalike = JSON.stringify({ output: 'broken', metadata: { exit_code: 2, duration_seconds: 0 } });
    const passing = await sh(`printf '%s' '${failedLookalike}'`);
    expect(passing.digest).toEqual({ failed: false, fingerprint: sha12(`0\n${failedLookalike}`) });
  });
});

describe('a text result is not failed, whatever it says', () => {
  it('read_file of a file that starts with "Error:"', async () => {
    writeFileSync(path.join(runDir, 'log.txt'), 'Error: not a tool error\n');
    const read = await executeTool('read_file', '{"path":"log.txt"}', ctx);
    expect(read).toEqual({ output: 'L1: Error: not a tool error', digest: { failed: false, fingerprint: sha12('L1: Error: not a tool error') } });
  });

  it("read_file's refusal is an error result: failed, a tool error", async () => {
    const missing = await executeTool('read_file', '{"path":"missing.txt"}', ctx);
    expect(missing).toEqual({
      output: 'Error: file not found: missing.txt',
      digest: { failed: true, fingerprint: sha12('Error: file not found: missing.txt'), toolError: 'error_output' },
    });
  });
});

describe('an MCP tool: its answer is text, its failures error results', () => {
  const runId = `digest-mcp-${process.pid}`;
  let state: string;
  const tool = (name: string): FrozenMcpTool => ({
    name: `mcp__svc__${name}`,
    server: 'svc',
    tool: name,
    description: '',
    parameters: { type: 'object', properties: {} },
    readOnly: false,
    idempotent: false,
  });
  const server = (mode: string) => McpServerSchema.parse({ name: 'svc', command: [process.execPath, MCP_TEST_SERVER, mode, state], timeoutSecs: 3 });
  beforeAll(() => {
    state = mkdtempSync(path.join(os.tmpdir(), 'infty-digest-mcp-'));
  });
  afterAll(async () => {
    await closeRun(runId);
    rmSync(state, { recursive: true, force: true });
  });

  it('an answer that starts with "Error:" or looks like a shell result is a text, not failed', { timeout: 30_000 }, async () => {
    const says = (text: string) => callMcpTool(runId, { tool: tool('echo'), server: server('ok') }, JSON.stringify({ text }));
    expect(await says('Error: this is what the tool found')).toEqual({ type: 'text', text: 'Error: this is what the tool found' });
    expect(finalizeToolOutput(await says('Error: this is what the tool found')).digest).toEqual({
      failed: false,
      fingerprint: sha12('Error: this is what the tool found'),
    });
    const lookalike = JSON.stringify({ output: 'x', metadata: { exit_code: 1, duration_seconds: 0 } });
    expect(finalizeToolOutput(await says(lookalike))).toEqual({ output: lookalike, digest: { failed: false, fingerprint: sha12(lookalike) } });
  });

  it('an isError answer, a timeout, a crash and a server that does not start are error results', { timeout: 60_000 }, async () => {
    const call = (name: string, mode = 'ok', args = '{}') => callMcpTool(runId, { tool: tool(name), server: server(mode) }, args);
    expect(await call('fail')).toEqual({
      type: 'error',
      kind: 'error_output',
      message: 'the MCP tool fail of server svc answered an error: the widget store is locked',
    });
    const hang = await call('hang', 'ok', '{"note":"x"}');
    expect(hang).toMatchObject({
      type: 'error',
      kind: 'error_output',
      message: expect.stringMatching(/^the MCP tool hang of server svc did not answer within 3 s/),
    });
    const crash = await call('crash');
    expect(crash).toMatchObject({ type: 'error', kind: 'error_output', message: expect.stringMatching(/^MCP server svc exited during the call of crash/) });
    await closeRun(runId);
    const dead = await call('echo', 'fail-start', '{"text":"x"}');
    expect(dead).toMatchObject({
      type: 'error',
      kind: 'error_output',
      message: expect.stringMatching(/^MCP server svc did not start, so mcp__svc__echo was not run/),
    });
    expect(finalizeToolOutput(dead).digest).toMatchObject({ failed: true, toolError: 'error_output' });
    expect(finalizeToolOutput(dead).output).toBe(`Error: ${(dead as { message: string }).message}`);
  });
});
