/**
 * MCP servers as tools (docs/behaviour.md §7.6, docs/architecture.md decision 17): the run input's
 * server list and the small descriptors of the tools a run froze at its start. Pure data: the
 * workflow bundle imports it.
 */
import { z } from 'zod';

/** A server name: letters, digits, "-" and "_" (no "__", which separates the parts of a tool name). */
export const MCP_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*$/;

export const MAX_MCP_SERVERS = 16;
/** Tools kept per server (the rest are dropped, with an event): each is offered with every request. */
export const MAX_MCP_TOOLS_PER_SERVER = 64;

const ENV_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names use letters, digits and "_"');
/** HTTP header names are RFC 9110 tokens. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** A header map (a record's key errors would not say what is wrong with the key). */
const headers = <V extends z.ZodType<string>>(value: V) =>
  z.record(z.string(), value).refine((h) => Object.keys(h).every((k) => HEADER_NAME.test(k)), 'an HTTP header name is a token (letters, digits, "-", …)');

/** The header names an entry sets, lower-cased, with the one given twice (any spelling) if any. */
function headerClash(s: { bearerTokenEnvVar?: string; httpHeaders?: Record<string, string>; envHttpHeaders?: Record<string, string> }): string | undefined {
  const seen = new Set<string>();
  const names = [...(s.bearerTokenEnvVar ? ['Authorization'] : []), ...Object.keys(s.httpHeaders ?? {}), ...Object.keys(s.envHttpHeaders ?? {})];
  for (const n of names) {
    if (seen.has(n.toLowerCase())) return n;
    seen.add(n.toLowerCase());
  }
  return undefined;
}

export const McpServerSchema = z
  .object({
    name: z.string().max(32, 'an MCP server name has at most 32 characters').regex(MCP_SERVER_NAME, 'MCP server names use letters, digits, "-" and single "_"'),
    /** stdio: the server's argv, run on the owner worker without a shell. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Streamable HTTP: the server's URL. */
    url: z
      .string()
      .regex(/^https?:\/\//, 'an MCP server URL starts with http:// or https://')
      .optional(),
    /** Names of worker environment variables a stdio server also gets (beyond PATH, HOME, LANG, …); nothing else of the worker's environment. */
    env: z.array(ENV_NAME).default([]),
    /**
     * Streamable HTTP, the names of Codex's configuration: the worker environment variable whose
     * value is sent as `Authorization: Bearer …`; static, non-secret headers; headers whose values
     * are worker environment variables (header → variable name). Values of variables are read on
     * the worker when it connects, so they never enter the run input or history.
     */
    bearerTokenEnvVar: ENV_NAME.optional(),
    httpHeaders: headers(
      z
        .string()
        .max(4096)
        .regex(/^[^\r\n\0]*$/, 'an HTTP header value is one line'),
    ).optional(),
    envHttpHeaders: headers(ENV_NAME).optional(),
    /** How long one call (and the server's start) may take before the model gets a timeout error. */
    timeoutSecs: z.number().positive().max(3600).default(60),
  })
  .strict()
  .refine((s) => (s.command === undefined) !== (s.url === undefined), 'an MCP server has exactly one of command (stdio) and url (streamable HTTP)')
  .refine(
    (s) => s.url !== undefined || (s.bearerTokenEnvVar === undefined && s.httpHeaders === undefined && s.envHttpHeaders === undefined),
    'bearerTokenEnvVar, httpHeaders and envHttpHeaders are for a url (streamable HTTP) server',
  )
  .superRefine((s, ctx) => {
    const clash = headerClash(s);
    if (clash) ctx.addIssue({ code: 'custom', message: `the header ${clash} is set twice (bearerTokenEnvVar sets Authorization)` });
  });

export type McpServer = z.output<typeof McpServerSchema>;
export type McpServerRaw = z.input<typeof McpServerSchema>;

export const McpServersSchema = z
  .array(McpServerSchema)
  .max(MAX_MCP_SERVERS, `at most ${MAX_MCP_SERVERS} MCP servers`)
  .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'MCP server names must be unique');

/** A tool as the workflow knows it: its model-facing name and the hints that decide who gets it and what a retry does. */
export interface McpToolInfo {
  /** `mcp__<server>__<tool>`. */
  name: string;
  /** Annotated `readOnlyHint`: offered to the Verifiers too, and re-run after a crash. */
  readOnly: boolean;
  /** Annotated `idempotentHint`: re-run after a crash. */
  idempotent: boolean;
}

export const MCP_PREFIX = 'mcp__';

export function isMcpToolName(name: string): boolean {
  return name.startsWith(MCP_PREFIX);
}

/** The model-facing name: `mcp__<server>__<tool>`, characters outside [A-Za-z0-9_-] replaced by "_", at most 64 characters. */
export function mcpToolName(server: string, tool: string): string {
  return `${MCP_PREFIX}${server}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

/** The MCP tools `role` is offered: every one to the Solver, the read-only ones to the Verifiers, none to the Director. */
export function mcpToolsFor(role: string, tools: readonly McpToolInfo[] | undefined): string[] {
  if (!tools?.length || role === 'director') return [];
  if (role === 'solver') return tools.map((t) => t.name);
  return tools.filter((t) => t.readOnly).map((t) => t.name);
}
