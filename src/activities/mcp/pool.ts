/**
 * Connections to a run's MCP servers, pooled per run in the worker process (docs/architecture.md
 * decision 17). A connection that closed (the server crashed or exited), timed out or broke is
 * dropped, so the next call starts the server again. A stdio server runs under the process guard,
 * so it ends with the worker even when the worker is SIGKILLed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServer } from '../../protocol/mcp';
import { toolEnv } from '../tools/env';
import { guardServerCommand } from '../tools/processGuard';
import { findProgram } from '../tools/which';
import { mcpHttpHeaders } from './headers';

/** A run's servers are stopped after this long without a call (a later call starts them again). */
const IDLE_MS = 10 * 60_000;
const STDERR_TAIL = 2_000;

export interface McpConnection {
  client: Client;
  /** The last characters the server wrote to stderr (stdio), for error messages. */
  stderr(): string;
  closed: boolean;
}

interface RunPool {
  connections: Map<string, Promise<McpConnection>>;
  timer?: NodeJS.Timeout;
}

const pools = new Map<string, RunPool>();

function poolOf(runId: string): RunPool {
  let pool = pools.get(runId);
  if (!pool) {
    pool = { connections: new Map() };
    pools.set(runId, pool);
  }
  if (pool.timer) clearTimeout(pool.timer);
  pool.timer = setTimeout(() => void closeRun(runId), IDLE_MS);
  pool.timer.unref();
  return pool;
}

/** A failure to start or reach a server, with what it said on stderr. */
export class McpStartError extends Error {}

async function open(server: McpServer): Promise<McpConnection> {
  const client = new Client({ name: 'infty', version: '0.1.0' });
  let tail = '';
  const conn: McpConnection = { client, stderr: () => tail.trim(), closed: false };
  let transport: StdioClientTransport | StreamableHTTPClientTransport;
  if (server.command) {
    const [program, ...rest] = server.command;
    const env = toolEnv('none', server.env) as Record<string, string>;
    // The guard would report a missing program only on its stderr; report it as spawn does.
    const found = findProgram(program!, env.PATH, process.cwd());
    if (!('path' in found)) throw new McpStartError(`spawn ${program} ${found.errno}`);
    const { file, args } = guardServerCommand(program!, rest);
    const stdio = new StdioClientTransport({ command: file, args, env, stderr: 'pipe' });
    stdio.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    transport = stdio;
  } else {
    let headers: Record<string, string>;
    try {
      headers = mcpHttpHeaders(server);
    } catch (err) {
      throw new McpStartError(describe(err));
    }
    transport = new StreamableHTTPClientTransport(new URL(server.url!), { requestInit: { headers } });
  }
  client.onclose = () => {
    conn.closed = true;
  };
  client.onerror = () => undefined; // reported through the failing request
  try {
    await client.connect(transport, { timeout: server.timeoutSecs * 1000 });
  } catch (err) {
    conn.closed = true;
    await client.close().catch(() => undefined);
    const said = tail.trim() ? `; its stderr ends: ${tail.trim().slice(-500)}` : '';
    throw new McpStartError(`${describe(err)}${said}`);
  }
  return conn;
}

/** The run's live connection to `server`, started (or restarted) when there is none. */
export async function connection(runId: string, server: McpServer): Promise<McpConnection> {
  const pool = poolOf(runId);
  const existing = pool.connections.get(server.name);
  if (existing !== undefined) {
    const conn = await existing.catch(() => undefined);
    if (conn && !conn.closed) return conn;
    pool.connections.delete(server.name);
  }
  const opened = open(server);
  pool.connections.set(server.name, opened);
  opened.catch(() => {
    if (pool.connections.get(server.name) === opened) pool.connections.delete(server.name);
  });
  return opened;
}

/** Stops `server`'s process (after a timeout or a broken call): the next call starts it again. */
export async function discard(runId: string, serverName: string): Promise<void> {
  const pool = pools.get(runId);
  const entry = pool?.connections.get(serverName);
  if (!pool || !entry) return;
  pool.connections.delete(serverName);
  const conn = await entry.catch(() => undefined);
  if (conn) {
    conn.closed = true;
    await conn.client.close().catch(() => undefined);
  }
}

/** Stops every server of the run. */
export async function closeRun(runId: string): Promise<void> {
  const pool = pools.get(runId);
  if (!pool) return;
  pools.delete(runId);
  if (pool.timer) clearTimeout(pool.timer);
  await Promise.all(
    [...pool.connections.keys()].map(async (name) => {
      const conn = await pool.connections.get(name)!.catch(() => undefined);
      await conn?.client.close().catch(() => undefined);
    }),
  );
}

/** Stops every server of every run (worker shutdown). */
export async function closeAllMcp(): Promise<void> {
  await Promise.all([...pools.keys()].map((runId) => closeRun(runId)));
}

export function describe(err: unknown): string {
  // The HTTP status (401, 403: a missing or wrong token) is not in the SDK's message.
  if (err instanceof StreamableHTTPError && typeof err.code === 'number' && err.code >= 100) return `${err.message} (HTTP ${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
