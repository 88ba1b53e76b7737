#!/usr/bin/env node
/**
 * A scripted, misbehaving MCP server (stdio) for test/mcp.test.ts, on the official SDK's low-level
 * Server. `node mcpTestServer.mjs MODE STATE_DIR`:
 *   MODE fail-start  writes a reason to stderr and exits 3 before answering anything;
 *   MODE ok          serves the tools below;
 *   MODE once        serves them at its first start only, and fails to start after that;
 *   MODE stubborn    serves them, but outlives its stdin and ignores SIGTERM, and starts a helper
 *                    process (its pid in STATE_DIR/helper.pid): only a kill of its process group
 *                    ends both.
 * Tools: peek (readOnlyHint), bump (idempotentHint), count (no hints: appends a line to
 * STATE_DIR/count.log), hang (never answers), crash (exits mid-call), big (answers 5 MB),
 * fail (answers isError), env (writes its environment to STATE_DIR/env.json), echo (answers its
 * text as it is, not as an error).
 * Every start appends its pid to STATE_DIR/starts.log.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [mode = 'ok', stateDir = '.'] = process.argv.slice(2);
const startedBefore = existsSync(join(stateDir, 'starts.log'));
appendFileSync(join(stateDir, 'starts.log'), `${process.pid}\n`);
if (mode === 'fail-start' || (mode === 'once' && startedBefore)) {
  process.stderr.write('mcpTestServer: cannot start: the configuration file is missing\n');
  process.exit(3);
}

const object = (properties = {}, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });
const TOOLS = [
  { name: 'peek', description: 'Reads a value.', inputSchema: object({ key: { type: 'string' } }), annotations: { readOnlyHint: true } },
  {
    name: 'bump',
    description: 'Sets a value (idempotent).',
    inputSchema: object({ key: { type: 'string' } }),
    annotations: { idempotentHint: true, readOnlyHint: false },
  },
  { name: 'count', description: 'Counts a call (a side effect).', inputSchema: object({ note: { type: 'string' } }) },
  { name: 'hang', description: 'Never answers.', inputSchema: { type: 'object', properties: { note: { type: 'string' } } } },
  { name: 'crash', description: 'Exits mid-call.', inputSchema: object() },
  { name: 'big', description: 'Answers 5 MB.', inputSchema: object() },
  { name: 'fail', description: 'Answers an error.', inputSchema: object() },
  { name: 'env', description: 'Reports its environment.', inputSchema: object() },
  { name: 'echo', description: 'Answers its text.', inputSchema: object({ text: { type: 'string' } }) },
];

const server = new Server({ name: 'infty-test-server', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const args = req.params.arguments ?? {};
  const text = (t) => ({ content: [{ type: 'text', text: t }] });
  switch (req.params.name) {
    case 'peek':
      return text(`peeked ${args.key} (server pid ${process.pid})`);
    case 'bump':
      appendFileSync(join(stateDir, 'bump.log'), `${args.key}\n`);
      return text(`bumped ${args.key}`);
    case 'count':
      appendFileSync(join(stateDir, 'count.log'), `${args.note}\n`);
      return text(`counted ${args.note}`);
    case 'hang':
      return new Promise(() => undefined);
    case 'crash':
      process.stderr.write('mcpTestServer: crashing on purpose\n');
      setTimeout(() => process.exit(7), 10);
      return new Promise(() => undefined);
    case 'big':
      return text(`BIG-START ${'x'.repeat(5 * 1024 * 1024)} BIG-END`);
    case 'fail':
      return { isError: true, content: [{ type: 'text', text: 'the widget store is locked' }] };
    case 'env':
      writeFileSync(join(stateDir, 'env.json'), JSON.stringify(process.env));
      return text(`environment written (${Object.keys(process.env).length} variables)`);
    case 'echo':
      return text(String(args.text));
    default:
      return { isError: true, content: [{ type: 'text', text: `no tool ${req.params.name}` }] };
  }
});
if (mode === 'stubborn') {
  process.on('SIGTERM', () => undefined);
  setInterval(() => undefined, 60_000);
  const helper = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60000)'], { stdio: 'ignore' });
  writeFileSync(join(stateDir, 'helper.pid'), `${helper.pid}\n`);
} else {
  process.stdin.on('end', () => process.exit(0));
}
await server.connect(new StdioServerTransport());
