/** `--mcp` and `$INFTY_HOME/mcp.json` → the run's MCP servers; tool names, schemas and who is offered what. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mcpHeaderSecrets, mcpHttpHeaders } from '../../src/activities/mcp/headers';
import { boundSchema, MAX_MCP_SCHEMA_BYTES } from '../../src/activities/mcp/tools';
import { mcpServersFrom, parseMcpFlag, readMcpConfig, splitCommandLine } from '../../src/cli/mcpFlags';
import { UsageError } from '../../src/errors';
import { McpServerSchema, mcpToolName, mcpToolsFor } from '../../src/protocol/mcp';
import { RunInputSchema } from '../../src/protocol/runInput';

describe('--mcp', () => {
  it('splits a command line as a shell would, without expanding anything', () => {
    expect(splitCommandLine(`npx -y '@scope/a server' "with \\"quote\\"" a\\ b $HOME`)).toEqual([
      'npx',
      '-y',
      '@scope/a server',
      'with "quote"',
      'a b',
      '$HOME',
    ]);
    expect(splitCommandLine(`  node   s.js ''  `)).toEqual(['node', 's.js', '']);
    expect(() => splitCommandLine(`node 'open`)).toThrow(UsageError);
  });

  it('NAME=COMMAND [ARGS…] is stdio, NAME=http(s)://… streamable HTTP; bad names and specs are usage errors', () => {
    expect(parseMcpFlag('fs=npx -y @modelcontextprotocol/server-filesystem /tmp')).toEqual({
      name: 'fs',
      command: ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
    });
    expect(parseMcpFlag('remote=https://mcp.example.com/mcp')).toEqual({ name: 'remote', url: 'https://mcp.example.com/mcp' });
    for (const bad of ['noequals', '=cmd', 'a__b=cmd', 'sp ace=cmd', 'x=', 'x=""']) expect(() => parseMcpFlag(bad), bad).toThrow(UsageError);
  });

  it("reads $INFTY_HOME/mcp.json; a flag replaces the file's server of the same name; --no-mcp-config ignores the file", () => {
    const home = mkdtempSync(join(tmpdir(), 'infty-mcpcfg-'));
    try {
      expect(readMcpConfig(home)).toEqual([]);
      writeFileSync(
        join(home, 'mcp.json'),
        JSON.stringify({
          servers: {
            everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], env: ['GITHUB_TOKEN'], timeoutSecs: 30 },
            remote: { url: 'http://127.0.0.1:9/mcp' },
          },
        }),
      );
      expect(readMcpConfig(home)).toEqual([
        { name: 'everything', command: ['npx', '-y', '@modelcontextprotocol/server-everything'], env: ['GITHUB_TOKEN'], timeoutSecs: 30 },
        { name: 'remote', url: 'http://127.0.0.1:9/mcp' },
      ]);
      expect(mcpServersFrom(['remote=node r.js'], home, true)).toEqual([
        { name: 'everything', command: ['npx', '-y', '@modelcontextprotocol/server-everything'], env: ['GITHUB_TOKEN'], timeoutSecs: 30 },
        { name: 'remote', command: ['node', 'r.js'] },
      ]);
      expect(mcpServersFrom(undefined, home, false)).toBeUndefined();
      expect(() => mcpServersFrom(['a=x', 'a=y'], home, false)).toThrow(/given twice/);
      writeFileSync(join(home, 'mcp.json'), JSON.stringify({ servers: { bad: { command: 'x', url: 'http://y' } } }));
      expect(() => readMcpConfig(home)).toThrow(/exactly one of command/);
      writeFileSync(join(home, 'mcp.json'), '{nope');
      expect(() => readMcpConfig(home)).toThrow(/not valid JSON/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("mcp.json: an HTTP server's bearerTokenEnvVar, httpHeaders and envHttpHeaders (names of variables, not values); not on a stdio server, no header twice", () => {
    const home = mkdtempSync(join(tmpdir(), 'infty-mcpcfg-'));
    const write = (servers: unknown) => writeFileSync(join(home, 'mcp.json'), JSON.stringify({ servers }));
    try {
      const remote = {
        url: 'https://mcp.example.com/mcp',
        bearerTokenEnvVar: 'DOCS_TOKEN',
        httpHeaders: { 'X-Client': 'infty' },
        envHttpHeaders: { 'X-Api-Key': 'DOCS_KEY' },
      };
      write({ remote });
      expect(readMcpConfig(home)).toEqual([{ name: 'remote', ...remote }]);
      write({ s: { command: 'node', bearerTokenEnvVar: 'T' } });
      expect(() => readMcpConfig(home)).toThrow(/are for a url/);
      write({ s: { url: 'http://x', bearerTokenEnvVar: 'T', httpHeaders: { authorization: 'Basic x' } } });
      expect(() => readMcpConfig(home)).toThrow(/header authorization is set twice/);
      write({ s: { url: 'http://x', httpHeaders: { 'X-A': 'a' }, envHttpHeaders: { 'x-a': 'A' } } });
      expect(() => readMcpConfig(home)).toThrow(/header x-a is set twice/);
      write({ s: { url: 'http://x', httpHeaders: { 'Bad Name': 'a' } } });
      expect(() => readMcpConfig(home)).toThrow(/header name/);
      write({ s: { url: 'http://x', httpHeaders: { 'X-A': 'a\r\nX-B: b' } } });
      expect(() => readMcpConfig(home)).toThrow(/one line/);
      write({ s: { url: 'http://x', envHttpHeaders: { 'X-A': 'not a name' } } });
      expect(() => readMcpConfig(home)).toThrow(/environment variable names/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('the headers are built on the worker from its environment; an unset variable is an error naming it', () => {
    const server = McpServerSchema.parse({
      name: 'r',
      url: 'http://x',
      bearerTokenEnvVar: 'R_BEARER',
      httpHeaders: { 'X-Client': 'infty' },
      envHttpHeaders: { 'X-Api-Key': 'R_KEY' },
    });
    expect(mcpHttpHeaders(server, { R_BEARER: 'b-value-123', R_KEY: 'k-value-456' })).toEqual({
      'X-Client': 'infty',
      'X-Api-Key': 'k-value-456',
      Authorization: 'Bearer b-value-123',
    });
    expect(() => mcpHttpHeaders(server, { R_KEY: 'k' })).toThrow("the worker's environment variable R_BEARER (bearerTokenEnvVar) is not set");
    expect(() => mcpHttpHeaders(server, { R_BEARER: 'b', R_KEY: '' })).toThrow("the worker's environment variable R_KEY (envHttpHeaders X-Api-Key) is not set");
    expect(mcpHeaderSecrets(server, { R_BEARER: 'b-value-123', R_KEY: 'short' })).toEqual([{ name: 'R_BEARER', value: 'b-value-123' }]);
  });

  it('the run input takes mcpServers with defaults; env takes variable names only', () => {
    const input = RunInputSchema.parse({ runId: 'r1', objective: 'x', mcpServers: [{ name: 'a', command: ['node', 's.js'] }] });
    expect(input.mcpServers).toEqual([{ name: 'a', command: ['node', 's.js'], env: [], timeoutSecs: 60 }]);
    expect(RunInputSchema.safeParse({ runId: 'r1', objective: 'x', mcpServers: [{ name: 'a', command: ['x'], env: ['A=B'] }] }).success).toBe(false);
    expect(
      RunInputSchema.safeParse({
        runId: 'r1',
        objective: 'x',
        mcpServers: [
          { name: 'a', command: ['x'] },
          { name: 'a', url: 'http://x' },
        ],
      }).success,
    ).toBe(false);
    expect(RunInputSchema.parse({ runId: 'r1', objective: 'x' }).mcpServers).toBeUndefined();
  });
});

describe('MCP tool names, schemas, roles', () => {
  it('names are mcp__<server>__<tool>, other characters replaced, at most 64', () => {
    expect(mcpToolName('everything', 'get-sum')).toBe('mcp__everything__get-sum');
    expect(mcpToolName('s', 'a.b/c d')).toBe('mcp__s__a_b_c_d');
    expect(mcpToolName('s', 'x'.repeat(100))).toHaveLength(64);
  });

  it('schemas: $schema dropped, strict only where strict mode accepts them, oversized ones replaced', () => {
    const closed = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
      additionalProperties: false,
    };
    expect(boundSchema(closed)).toEqual({
      parameters: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
      strict: true,
      cut: false,
    });
    expect(boundSchema({ type: 'object', properties: { a: { type: 'string' } } }).strict).toBe(false);
    expect(boundSchema({ type: 'object' }).parameters).toEqual({ type: 'object', properties: {} });
    const huge = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`p${i}`, { type: 'string', description: 'some words here' }])),
    };
    expect(JSON.stringify(huge).length).toBeGreaterThan(MAX_MCP_SCHEMA_BYTES);
    expect(boundSchema(huge)).toEqual({ parameters: { type: 'object', properties: {} }, strict: false, cut: true });
  });

  it('the Solver gets every MCP tool, Verifiers the readOnlyHint ones, the Director none', () => {
    const tools = [
      { name: 'mcp__s__read', readOnly: true, idempotent: true },
      { name: 'mcp__s__write', readOnly: false, idempotent: true },
    ];
    expect(mcpToolsFor('solver', tools)).toEqual(['mcp__s__read', 'mcp__s__write']);
    expect(mcpToolsFor('verifier-alpha', tools)).toEqual(['mcp__s__read']);
    expect(mcpToolsFor('director', tools)).toEqual([]);
    expect(mcpToolsFor('solver', undefined)).toEqual([]);
  });
});
