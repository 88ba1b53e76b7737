/**
 * A scripted streamable-HTTP MCP server that wants a bearer token (test/mcpHttpAuth.test.ts), on the
 * official SDK's low-level Server, stateless, in the test's process on 127.0.0.1. A request without
 * `Authorization: Bearer <token>` is refused with 401. Tools: whoami (readOnlyHint: the X-Static and
 * X-Tenant headers it got), echo-auth (the Authorization header it got, as a server that leaks it would).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface AuthMcpServer {
  url: string;
  /** Requests refused for a missing or wrong token. */
  refused: number;
  close(): Promise<void>;
}

const TOOLS = [
  {
    name: 'whoami',
    description: 'The non-secret headers it got.',
    inputSchema: { type: 'object' as const, properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true },
  },
  { name: 'echo-auth', description: 'The Authorization header it got.', inputSchema: { type: 'object' as const, properties: {}, additionalProperties: false } },
];

function mcpServerFor(req: IncomingMessage): Server {
  const server = new Server({ name: 'infty-auth-test-server', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (call) => {
    const text =
      call.params.name === 'whoami'
        ? `x-static=${String(req.headers['x-static'])} x-tenant=${String(req.headers['x-tenant'])}`
        : `authorization: ${String(req.headers.authorization)}`;
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

export async function startAuthMcpServer(token: string): Promise<AuthMcpServer> {
  const state = { refused: 0 };
  const http = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      state.refused += 1;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid or missing bearer token"}');
      return;
    }
    // Stateless: a server and a transport per request.
    const server = mcpServerFor(req);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
