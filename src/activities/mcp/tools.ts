/**
 * MCP tools (docs/behaviour.md §7.6, docs/architecture.md decision 17): listed once at the run's
 * start and frozen in `$INFTY_HOME/mcp/<run>/tools.json` on the owner worker (the definitions the
 * model steps offer, the servers the calls reach); each call a journaled tool call whose output is
 * bounded and goes by reference like every tool's. Every failure of a server — it does not start,
 * hangs, crashes mid-call, answers an error — is an error result (`Error: …` for the model), never
 * a failure of the run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ListMcpToolsInput, ListMcpToolsResult } from '../../protocol/activities';
import { isMcpToolName, MAX_MCP_TOOLS_PER_SERVER, type McpServer, type McpToolInfo, mcpToolName } from '../../protocol/mcp';
import { strictSchemaViolation } from '../../protocol/strictSchema';
import { parseToolArguments } from '../../protocol/toolArguments';
import { type ToolDefinition, toolDefinitions } from '../../protocol/tools';
import { writeFileDurable } from '../durable/files';
import { scrubSecrets, scrubWith } from '../secrets';
import { errorResult, type ToolResult, textResult } from '../tools/output';
import { mcpHeaderSecrets } from './headers';
import { connection, describe, discard, type McpConnection, McpStartError } from './pool';

/** A tool's input schema larger than this (JSON) is offered as a bare object schema; its description says so. */
export const MAX_MCP_SCHEMA_BYTES = 16_384;
export const MAX_MCP_DESCRIPTION_CHARS = 2_000;

export interface FrozenMcpTool extends McpToolInfo, ToolDefinition {
  server: string;
  /** The tool's name on its server. */
  tool: string;
}

interface FrozenFile {
  servers: McpServer[];
  tools: FrozenMcpTool[];
}

export function mcpToolsPath(home: string, runId: string): string {
  return join(home, 'mcp', runId, 'tools.json');
}

/** The schema as offered: `$schema` dropped, an object with properties, bounded in size; strict when strict mode accepts it. */
export function boundSchema(schema: unknown): { parameters: Record<string, unknown>; strict: boolean; cut: boolean } {
  const raw = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? { ...(schema as Record<string, unknown>) } : {};
  delete raw.$schema;
  const parameters: Record<string, unknown> = { ...raw, type: 'object', properties: raw.properties ?? {} };
  if (JSON.stringify(parameters).length > MAX_MCP_SCHEMA_BYTES) return { parameters: { type: 'object', properties: {} }, strict: false, cut: true };
  return { parameters, strict: strictSchemaViolation(parameters) === null, cut: false };
}

async function listServer(runId: string, server: McpServer): Promise<Omit<FrozenMcpTool, 'name'>[] | string> {
  try {
    const conn = await connection(runId, server);
    const out: Omit<FrozenMcpTool, 'name'>[] = [];
    let cursor: string | undefined;
    do {
      const page = await conn.client.listTools(cursor ? { cursor } : {}, { timeout: server.timeoutSecs * 1000 });
      for (const tool of page.tools) {
        const { parameters, strict, cut } = boundSchema(tool.inputSchema);
        let description = (tool.description ?? tool.annotations?.title ?? '').slice(0, MAX_MCP_DESCRIPTION_CHARS);
        if (cut)
          description += `\n(Its argument schema was larger than ${MAX_MCP_SCHEMA_BYTES} bytes and is not shown; pass the arguments this description names.)`;
        out.push({
          server: server.name,
          tool: tool.name,
          description: `[MCP server ${server.name}] ${description}`.trim(),
          parameters,
          ...(strict ? { strict: true } : {}),
          readOnly: tool.annotations?.readOnlyHint === true,
          idempotent: tool.annotations?.idempotentHint === true,
        });
      }
      cursor = page.nextCursor;
    } while (cursor && out.length < MAX_MCP_TOOLS_PER_SERVER * 2);
    return out;
  } catch (err) {
    await discard(runId, server.name);
    const failure = err instanceof McpStartError ? `it did not start: ${err.message}` : `listing its tools failed: ${describe(err)}`;
    return scrubSecrets(scrubWith(failure, mcpHeaderSecrets(server)));
  }
}

/** Lists every server's tools once and freezes them for the run. */
export async function listMcpTools(input: ListMcpToolsInput, home: string): Promise<ListMcpToolsResult> {
  const listed = await Promise.all(input.servers.map((s) => listServer(input.runId, s)));
  const tools: FrozenMcpTool[] = [];
  const failures: ListMcpToolsResult['failures'] = [];
  const dropped: string[] = [];
  const taken = new Set<string>();
  listed.forEach((result, i) => {
    const server = input.servers[i]!;
    if (typeof result === 'string') {
      failures.push({ server: server.name, error: result.slice(0, 1_000) });
      return;
    }
    let kept = 0;
    for (const tool of result) {
      const name = mcpToolName(server.name, tool.tool);
      if (kept >= MAX_MCP_TOOLS_PER_SERVER || taken.has(name)) {
        dropped.push(`${server.name}/${tool.tool}`);
        continue;
      }
      taken.add(name);
      kept += 1;
      tools.push({ name, ...tool });
    }
  });
  const path = mcpToolsPath(home, input.runId);
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurable(path, JSON.stringify({ servers: input.servers, tools } satisfies FrozenFile));
  forgetFrozen(home, input.runId);
  return { tools: tools.map(({ name, readOnly, idempotent }) => ({ name, readOnly, idempotent })), failures, dropped: dropped.slice(0, 50) };
}

const frozenCache = new Map<string, FrozenFile>();

async function frozen(home: string, runId: string): Promise<FrozenFile | undefined> {
  const path = mcpToolsPath(home, runId);
  const cached = frozenCache.get(path);
  if (cached) return cached;
  try {
    const file = JSON.parse(await readFile(path, 'utf8')) as FrozenFile;
    if (frozenCache.size > 500) frozenCache.clear();
    frozenCache.set(path, file);
    return file;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Forget a cached file (the listing just rewrote it). */
export function forgetFrozen(home: string, runId: string): void {
  frozenCache.delete(mcpToolsPath(home, runId));
}

/** The frozen definitions of the named MCP tools, in the order given (unknown names skipped). */
export async function mcpDefinitions(home: string, runId: string, names: readonly string[]): Promise<ToolDefinition[]> {
  const file = await frozen(home, runId);
  if (!file) return [];
  const byName = new Map(file.tools.map((t) => [t.name, t]));
  return names.flatMap((n) => {
    const t = byName.get(n);
    return t ? [{ name: t.name, description: t.description, parameters: t.parameters, ...(t.strict ? { strict: true } : {}) }] : [];
  });
}

export interface McpCall {
  tool?: FrozenMcpTool;
  server?: McpServer;
}

export async function mcpTool(home: string, runId: string, name: string): Promise<McpCall> {
  const file = await frozen(home, runId);
  const tool = file?.tools.find((t) => t.name === name);
  return { tool, server: tool ? file?.servers.find((s) => s.name === tool.server) : undefined };
}

type Content = {
  type: string;
  text?: unknown;
  mimeType?: unknown;
  data?: unknown;
  uri?: unknown;
  name?: unknown;
  resource?: { uri?: unknown; text?: unknown; blob?: unknown; mimeType?: unknown };
};

/** A call result as text: text parts as they are, other parts described, else the structured content as JSON. */
export function resultText(result: { content?: unknown; structuredContent?: unknown; toolResult?: unknown }): string {
  const parts: string[] = [];
  for (const c of (Array.isArray(result.content) ? result.content : []) as Content[]) {
    let part: string;
    if (c.type === 'text') part = String(c.text ?? '');
    else if (c.type === 'image' || c.type === 'audio')
      part = `[${c.type} ${String(c.mimeType ?? '')}, ${typeof c.data === 'string' ? Math.floor((c.data.length * 3) / 4) : 0} bytes, not shown]`;
    else if (c.type === 'resource')
      part = typeof c.resource?.text === 'string' ? c.resource.text : `[resource ${String(c.resource?.uri ?? '')}, binary, not shown]`;
    else if (c.type === 'resource_link') part = `[resource link ${String(c.uri ?? '')}${c.name ? ` (${String(c.name)})` : ''}]`;
    else part = `[${c.type} content, not shown]`;
    parts.push(part);
  }
  // Bounded afterwards, head and tail, by the one tool-output truncation (finalizeToolOutput).
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  if (parts.length === 0 && result.toolResult !== undefined) parts.push(JSON.stringify(result.toolResult));
  return parts.join('\n');
}

/**
 * Calls an MCP tool and returns its result, scrubbed of the values its server's headers name
 * (finalizeToolOutput then scrubs the worker's secrets and bounds it). Never throws for a
 * server's failure: a server that does not start, times out, crashes or answers an error is an
 * error result, and a broken connection is dropped so the next call restarts the server.
 */
export async function callMcpTool(runId: string, call: Required<McpCall>, rawArguments: string, opts: { signal?: AbortSignal } = {}): Promise<ToolResult> {
  const { tool, server } = call;
  const label = `MCP tool ${tool.tool} of server ${server.name}`;
  const headerSecrets = mcpHeaderSecrets(server);
  // Also the values of the variables its headers name, whatever their names (docs/behaviour.md §7.6).
  const text = (answer: string): ToolResult => textResult(scrubWith(answer, headerSecrets));
  const error = (message: string): ToolResult => errorResult(scrubWith(message, headerSecrets));
  const parsed = parseToolArguments(rawArguments);
  if (!parsed.ok && parsed.error === 'invalid_json')
    return error(`the arguments for ${tool.name} are not valid JSON (${parsed.detail}). Send them as a JSON object.`);
  if (!parsed.ok) return error(`the arguments for ${tool.name} must be a JSON object.`);
  const args = parsed.args;
  let conn: McpConnection;
  try {
    conn = await connection(runId, server);
  } catch (err) {
    await discard(runId, server.name);
    return error(`MCP server ${server.name} did not start, so ${tool.name} was not run: ${describe(err)}`);
  }
  try {
    const result = await conn.client.callTool({ name: tool.tool, arguments: args as Record<string, unknown> }, undefined, {
      timeout: server.timeoutSecs * 1000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const answer = resultText(result);
    if (result.isError) return error(`the ${label} answered an error: ${answer || '(no message)'}`);
    return text(answer);
  } catch (err) {
    const message = describe(err);
    const crashed = conn.closed;
    const stderr = conn.stderr();
    await discard(runId, server.name);
    if (opts.signal?.aborted) throw err;
    if (/timed out|timeout/i.test(message)) {
      return error(
        `the ${label} did not answer within ${server.timeoutSecs} s; the server was stopped (it restarts on the next call). Its effects, if any, are unknown.`,
      );
    }
    if (crashed) {
      return error(
        `MCP server ${server.name} exited during the call of ${tool.tool} (${message}); it restarts on the next call. Its effects, if any, are unknown.${stderr ? ` Its stderr ends: ${stderr.slice(-500)}` : ''}`,
      );
    }
    return error(`the ${label} failed: ${message}`);
  }
}

/** The definitions offered to the model for `names`: the table's tools, then the run's frozen MCP tools. */
export async function offeredTools(home: string, runId: string, names: readonly string[]): Promise<ToolDefinition[]> {
  const table = toolDefinitions(names);
  const mcp = names.filter(isMcpToolName);
  return mcp.length ? [...table, ...(await mcpDefinitions(home, runId, mcp))] : table;
}
