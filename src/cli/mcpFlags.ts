/**
 * `--mcp NAME=COMMAND [ARGS…]` / `--mcp NAME=https://…` and `$INFTY_HOME/mcp.json` → the run's
 * MCP servers (docs/interface.md §1, docs/behaviour.md §7.6).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors';
import { formatZodError } from '../protocol/json';
import { type McpServerRaw, McpServerSchema, McpServersSchema } from '../protocol/mcp';

export const MCP_CONFIG_FILE = 'mcp.json';

/**
 * Splits a command line as a POSIX shell would, without expanding anything: whitespace separates
 * words, '…' quotes literally, "…" quotes with \ escaping \ " $ `, and \ escapes one character.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '\\"$`'.includes(line[i + 1]!)) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`--mcp: unterminated ${quote} quote in ${JSON.stringify(line)} (nothing was started)`);
  if (inWord) words.push(word);
  return words;
}

/** One `--mcp NAME=COMMAND [ARGS…]` or `--mcp NAME=URL`. */
export function parseMcpFlag(spec: string): McpServerRaw {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError(`--mcp takes NAME=COMMAND [ARGS…] or NAME=https://…, got ${JSON.stringify(spec)} (nothing was started)`);
  const name = spec.slice(0, eq).trim();
  const rest = spec.slice(eq + 1).trim();
  const raw: McpServerRaw = /^https?:\/\//.test(rest) ? { name, url: rest } : { name, command: splitCommandLine(rest) };
  const parsed = McpServerSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--mcp ${JSON.stringify(spec)}: ${formatZodError(parsed.error)} (nothing was started)`);
  return raw;
}

interface ConfigEntry {
  command?: string | string[];
  args?: string[];
  url?: string;
  env?: string[];
  timeoutSecs?: number;
  bearerTokenEnvVar?: string;
  httpHeaders?: Record<string, string>;
  envHttpHeaders?: Record<string, string>;
}

/**
 * The servers of `$INFTY_HOME/mcp.json` (`{"servers": {NAME: {command, args?, env?, timeoutSecs?} |
 * {url, bearerTokenEnvVar?, httpHeaders?, envHttpHeaders?, timeoutSecs?}}}`); none when it does not exist.
 */
export function readMcpConfig(home: string): McpServerRaw[] {
  const path = join(home, MCP_CONFIG_FILE);
  if (!existsSync(path)) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON (${(err as Error).message}) (nothing was started)`);
  }
  const servers = (doc as { servers?: unknown } | null)?.servers;
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw new UsageError(`${path}: expected {"servers": {"NAME": {"command": …} | {"url": …}}} (nothing was started)`);
  }
  return Object.entries(servers as Record<string, ConfigEntry>).map(([name, entry]) => {
    const { command, args, ...rest } = entry ?? {};
    const argv = command === undefined ? undefined : [...(Array.isArray(command) ? command : [command]), ...(args ?? [])];
    const raw = { name, ...rest, ...(argv ? { command: argv } : {}) } as McpServerRaw;
    const parsed = McpServerSchema.safeParse(raw);
    if (!parsed.success) throw new UsageError(`${path}: server ${JSON.stringify(name)}: ${formatZodError(parsed.error)} (nothing was started)`);
    return raw;
  });
}

/** The config file's servers, then the flags' (a flag replaces the file's server of the same name). */
export function mcpServersFrom(flags: string[] | undefined, home: string | undefined, useConfig: boolean): McpServerRaw[] | undefined {
  const fromFlags = (flags ?? []).map(parseMcpFlag);
  const fromFile = home && useConfig ? readMcpConfig(home) : [];
  const seen = new Set<string>();
  for (const s of fromFlags) {
    if (seen.has(s.name)) throw new UsageError(`--mcp ${s.name} is given twice (nothing was started)`);
    seen.add(s.name);
  }
  const all = [...fromFile.filter((s) => !seen.has(s.name)), ...fromFlags];
  if (all.length === 0) return undefined;
  const checked = McpServersSchema.safeParse(all);
  if (!checked.success) throw new UsageError(`MCP servers: ${formatZodError(checked.error)} (nothing was started)`);
  return all;
}
