/** A run's MCP tools (docs/behaviour.md §7.6, docs/architecture.md decision 17): listed once at its start and frozen. */
import { isCancellation } from '@temporalio/workflow';
import type { ListMcpToolsResult, NewItem } from '../protocol/activities';
import { MAX_MCP_TOOLS_PER_SERVER, type McpServer } from '../protocol/mcp';
import type { RunContext } from './context';
import { abbreviate } from './roleTurn';

/**
 * Lists the servers' tools on the owner worker and keeps their names and hints in the run's state.
 * A server that does not start or list is an event and a notice to the Solver; the run goes on.
 * Returns the notice items for the Solver's first step.
 */
export async function startMcp(ctx: RunContext, servers: McpServer[]): Promise<NewItem[]> {
  let listed: ListMcpToolsResult;
  try {
    listed = await ctx.activities.mcp.listMcpTools({ runId: ctx.input.runId, servers });
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = abbreviate(err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err), 300);
    listed = { tools: [], failures: servers.map((s) => ({ server: s.name, error: `listing failed: ${reason}` })), dropped: [] };
  }
  ctx.state.mcpTools = listed.tools;
  if (listed.tools.length)
    ctx.event(
      'mcp_tools',
      abbreviate(`${listed.tools.length} MCP tool(s): ${listed.tools.map((t) => t.name + (t.readOnly ? ' (read-only)' : '')).join(', ')}`, 600),
    );
  if (listed.dropped.length)
    ctx.event('mcp_tools', abbreviate(`left out (over ${MAX_MCP_TOOLS_PER_SERVER} per server, or a duplicate name): ${listed.dropped.join(', ')}`, 600));
  for (const f of listed.failures) ctx.event('mcp_server_failed', abbreviate(`MCP server ${f.server}: ${f.error}`, 600));
  if (!listed.failures.length) return [];
  const servers_ = listed.failures.map((f) => `- ${f.server}: ${abbreviate(f.error, 500)}`).join('\n');
  return [{ type: 'prompt_message', template: 'mcp_unavailable', vars: { servers: servers_ } }];
}
