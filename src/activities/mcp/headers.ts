/**
 * The headers a streamable-HTTP MCP server gets (docs/behaviour.md §7.6): the entry's static
 * `httpHeaders`, and the values of the worker environment variables its `bearerTokenEnvVar` and
 * `envHttpHeaders` name, read when the connection is made so they stay out of the run input and
 * history.
 */
import type { McpServer } from '../../protocol/mcp';
import { MIN_SECRET_LENGTH, type SecretValue } from '../secrets';

/** A variable the entry names is not set on this worker. */
export class McpHeaderError extends Error {}

function variable(name: string, what: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value === '') throw new McpHeaderError(`the worker's environment variable ${name} (${what}) is not set`);
  return value;
}

/** The request headers for `server`; throws McpHeaderError naming a variable that is not set. */
export function mcpHttpHeaders(server: McpServer, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const headers: Record<string, string> = { ...server.httpHeaders };
  for (const [header, name] of Object.entries(server.envHttpHeaders ?? {})) headers[header] = variable(name, `envHttpHeaders ${header}`, env);
  if (server.bearerTokenEnvVar) headers.Authorization = `Bearer ${variable(server.bearerTokenEnvVar, 'bearerTokenEnvVar', env)}`;
  return headers;
}

/**
 * The values of the variables `server` names for its headers, to scrub from what a call or a
 * listing failure reports: their names need not look secret to the generic scrubber.
 */
export function mcpHeaderSecrets(server: McpServer, env: NodeJS.ProcessEnv = process.env): SecretValue[] {
  const names = [...(server.bearerTokenEnvVar ? [server.bearerTokenEnvVar] : []), ...Object.values(server.envHttpHeaders ?? {})];
  return names
    .flatMap((name) => {
      const value = env[name];
      return value !== undefined && value.length >= MIN_SECRET_LENGTH ? [{ name, value }] : [];
    })
    .sort((a, b) => b.value.length - a.value.length);
}
