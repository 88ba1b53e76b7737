/**
 * One-line summaries of activities for the Temporal Web UI (Temporal's user metadata): who does
 * what, e.g. `solver · shell: npm test` or `verifier-beta · model step`. The workflow attaches one
 * to every activity it schedules, so the event history and timeline tell the run's story.
 *
 * Pure and deterministic (it runs in the workflow, docs/architecture.md "The workflow decides"):
 * no I/O, no clock. Inputs are read defensively: a tool call's arguments are the model's JSON text,
 * which may be invalid, cut short (a preview when `argumentsInTranscript`) or large, so at most
 * MAX_PARSE_CHARS of it are parsed and every printed part is cut to one line.
 */

import { parseToolArguments } from '../protocol/toolArguments';
import { oneLine as cutLine, fitSummary } from '../protocol/userMetadata';

/** The longest command, path or text a summary prints (one line, marked with "…" when cut). */
export const MAX_DETAIL_CHARS = 120;

/** Tool-call arguments longer than this are not parsed as JSON; the fields are salvaged from their start. */
const MAX_PARSE_CHARS = 64 * 1024;

const MAX_ROLE_CHARS = 40;

type Fields = Record<string, unknown>;

function fields(v: unknown): Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : {};
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** One line, cut to `max` characters (default MAX_DETAIL_CHARS). */
export function oneLine(s: string, max = MAX_DETAIL_CHARS): string {
  return cutLine(s, max);
}

function roleOf(input: Fields): string {
  const role = text(input.role);
  return role ? oneLine(role, MAX_ROLE_CHARS) : 'run';
}

/** A JSON string literal's body (between the quotes, still escaped) → its text; undefined if not decodable. */
function unescapeJson(body: string): string | undefined {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    // A preview can end inside an escape sequence: drop the broken tail.
    try {
      return JSON.parse(`"${body.replace(/\\(u[0-9a-fA-F]{0,3})?$/, '')}"`) as string;
    } catch {
      return undefined;
    }
  }
}

const JSON_STRING_BODY = '([^"\\\\]*(?:\\\\.[^"\\\\]*)*)';

/** `"key": "value"` found in JSON text that does not parse (cut short, or too large to parse). */
function salvageString(raw: string, key: string): string | undefined {
  const m = new RegExp(`"${key}"\\s*:\\s*"${JSON_STRING_BODY}`).exec(raw.slice(0, MAX_PARSE_CHARS));
  return m ? unescapeJson(m[1]!) : undefined;
}

/** `"key": ["a", "b", …` found in JSON text that does not parse; the last string may be unterminated. */
function salvageStrings(raw: string, key: string): string[] | undefined {
  const head = raw.slice(0, MAX_PARSE_CHARS);
  const start = new RegExp(`"${key}"\\s*:\\s*\\[`).exec(head);
  if (!start) return undefined;
  const out: string[] = [];
  const item = new RegExp(`\\s*"${JSON_STRING_BODY}("?)\\s*(,|\\])?`, 'y');
  item.lastIndex = start.index + start[0].length;
  for (;;) {
    const m = item.exec(head);
    if (!m) break;
    const value = unescapeJson(m[1]!);
    if (value !== undefined) out.push(value);
    if (m[3] !== ',' || out.length >= 64) break;
  }
  return out;
}

/** The arguments object of a tool call, parsed when it is valid JSON of a sane size, else null. */
function parseArguments(raw: string): Fields | null {
  if (raw.length > MAX_PARSE_CHARS) return null;
  const parsed = parseToolArguments(raw);
  return parsed.ok ? (parsed.args as Fields) : null;
}

const SHELLS = /^(?:.*\/)?(?:ba|z|da|k|fi)?sh$/;

/** An argv as the user would type it: `bash -lc "npm test"` shows as `npm test`. */
export function commandLine(argv: string[]): string {
  if (argv.length >= 3 && SHELLS.test(argv[0]!) && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(argv[1]!)) return argv[2]!;
  return argv
    .slice(0, 64)
    .map((a) => (a === '' ? "''" : /[\s'"\\$`|&;<>()*?!#~]/.test(a) ? `'${a.slice(0, 512).replace(/'/g, `'\\''`)}'` : a.slice(0, 512)))
    .join(' ');
}

const PATCH_FILE = /^\*\*\* (Add|Update|Delete) File: (.*)$|^\*\*\* Move to: (.*)$/gm;

/** The files a patch touches, in order (an update that moves a file shows `old → new`). */
export function patchFiles(patch: string): string[] {
  const files: string[] = [];
  PATCH_FILE.lastIndex = 0;
  const head = patch.slice(0, MAX_PARSE_CHARS);
  for (let m = PATCH_FILE.exec(head); m; m = PATCH_FILE.exec(head)) {
    if (m[3] !== undefined) {
      if (files.length) files[files.length - 1] = `${files[files.length - 1]} → ${m[3].trim()}`;
    } else {
      files.push(m[2]!.trim());
    }
    if (files.length > 64) break;
  }
  return files;
}

/** `a, b +3 more`, within MAX_DETAIL_CHARS. */
function listFiles(files: string[]): string {
  if (files.length === 0) return '';
  let shown = oneLine(files[0]!);
  let i = 1;
  for (; i < files.length; i++) {
    const next = `${shown}, ${oneLine(files[i]!)}`;
    const rest = files.length - i - 1;
    if (next.length + (rest ? ` +${rest} more`.length : 0) > MAX_DETAIL_CHARS) break;
    shown = next;
  }
  return i < files.length ? `${shown} +${files.length - i} more` : shown;
}

/** What a tool call does, in a few words: the command, the path, the files of a patch. */
export function toolCallDetail(name: string, rawArguments: unknown): string {
  const raw = typeof rawArguments === 'string' ? rawArguments : '';
  const args = parseArguments(raw);
  switch (name) {
    case 'shell': {
      const command = args ? args.command : salvageStrings(raw, 'command');
      if (Array.isArray(command) && command.length && command.every((c) => typeof c === 'string')) {
        return oneLine(commandLine(command as string[]));
      }
      if (typeof command === 'string') return oneLine(command);
      break;
    }
    case 'apply_patch': {
      const patch = args ? text(args.input) : salvageString(raw, 'input');
      const files = patch !== undefined ? patchFiles(patch) : [];
      if (files.length) return listFiles(files);
      break;
    }
    case 'read_file':
    case 'list_dir': {
      const path = args ? text(args.path) : salvageString(raw, 'path');
      if (path !== undefined) return oneLine(path);
      break;
    }
    case 'update_plan': {
      const plan = args?.plan;
      if (Array.isArray(plan)) return `${plan.length} step${plan.length === 1 ? '' : 's'}`;
      break;
    }
  }
  return oneLine(raw);
}

/**
 * The summary of one activity call, from the activity's name and its (first) argument; see
 * src/protocol/activities.ts for the input shapes. Never throws; at most MAX_SUMMARY_JSON_BYTES.
 */
export function activitySummary(name: string, input: unknown): string {
  try {
    return fitSummary(summarize(String(name), fields(input)));
  } catch {
    // A summary must never fail the workflow task that schedules the activity.
    return fitSummary(oneLine(String(name), 80));
  }
}

function summarize(name: string, i: Fields): string {
  switch (name) {
    case 'modelStep':
      return `${roleOf(i)} · model step`;
    case 'compact':
      return `${roleOf(i)} · compaction`;
    case 'runToolCall':
    case 'runTool': {
      const call = fields(i.call);
      const tool = oneLine(text(call.name) ?? 'tool', 60);
      const detail = toolCallDetail(tool, call.arguments);
      return `${roleOf(i)} · ${tool}${detail ? `: ${detail}` : ''}`;
    }
    case 'validateDeliverable': {
      const path = text(i.path);
      return `solver · deliverable check${path !== undefined ? `: ${oneLine(path)}` : ''}`;
    }
    case 'recordItems':
      return `${roleOf(i)} · record items`;
    case 'createRun':
      return 'run store · create run';
    case 'listMcpTools':
      return `MCP · list the tools of ${Array.isArray(i.servers) ? i.servers.length : '?'} server(s)`;
    case 'snapshotTurn':
      return `run store · snapshot of Solver turn ${typeof i.turn === 'number' ? i.turn : '?'}`;
    case 'updateRunRecord': {
      const status = text(i.status);
      if (status !== undefined) return `run store · record outcome: ${oneLine(status, 40)}`;
      if (Array.isArray(i.roles)) return 'run store · record roles';
      return 'run store · record objective';
    }
    default: {
      const role = text(i.role);
      return `${role ? `${oneLine(role, MAX_ROLE_CHARS)} · ` : ''}${oneLine(name, 80)}`;
    }
  }
}
