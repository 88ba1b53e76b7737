/** The `apply_patch` tool: the Codex patch format (Add / Delete / Update [+ Move] File). */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { argsError, describeFsError, isErrnoException, type ToolContext } from './context';
import { errorResult, type ToolResult, textResult } from './output';
import { PathOutsideRunDirError, resolveInsideRunDir } from './paths';

export interface UpdateChunk {
  /** The `@@ <text>` header: a line searched for first to position the hunk. */
  context: string | null;
  oldLines: string[];
  newLines: string[];
  /** For each new line: the index of the same context line in oldLines, or null for an added line. */
  newFromOld: (number | null)[];
  /** `*** End of File` followed the hunk: it should match at the end of the file. */
  isEndOfFile: boolean;
  /** 1-based line of the hunk in the patch text. */
  line: number;
}

export type PatchHunk =
  | { type: 'add'; path: string; contents: string; line: number }
  | { type: 'delete'; path: string; line: number }
  | { type: 'update'; path: string; movePath: string | null; chunks: UpdateChunk[]; line: number };

export interface Patch {
  hunks: PatchHunk[];
}

export class PatchParseError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly reason: string,
  ) {
    super(`invalid patch: line ${lineNumber}: ${reason}`);
    this.name = 'PatchParseError';
  }
}

const BEGIN_PATCH = '*** Begin Patch';
const END_PATCH = '*** End Patch';
const ADD_FILE = '*** Add File: ';
const DELETE_FILE = '*** Delete File: ';
const UPDATE_FILE = '*** Update File: ';
const MOVE_TO = '*** Move to: ';
const END_OF_FILE = '*** End of File';
/** `<<'EOF'`, `<<EOF`, `<<"EOF"`, optionally preceded by `apply_patch`/`cat` (a shell heredoc pasted as input). */
const HEREDOC_START = /^(?:(?:apply_patch|applypatch|cat)\s*)?<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1$/;
/** A unified-diff range header (`@@ -1,3 +1,4 @@ ...`) written where a Codex `@@` header belongs. */
const UNIFIED_RANGE = /^-\d+(?:,\d+)?\s+\+\d+(?:,\d+)?\s*@@\s?(.*)$/;

/** Parses the Codex patch format; throws PatchParseError (1-based line number + reason). */
export function parsePatch(text: string): Patch {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let first = 0;
  let last = lines.length - 1;
  const skipBlankEdges = (): void => {
    while (first <= last && lines[first]!.trim() === '') first++;
    while (last >= first && lines[last]!.trim() === '') last--;
  };
  skipBlankEdges();
  if (first > last) throw new PatchParseError(1, `the patch is empty; it must start with '${BEGIN_PATCH}' and end with '${END_PATCH}'`);

  const heredoc = HEREDOC_START.exec(lines[first]!.trim());
  if (heredoc && last > first && lines[last]!.trim() === heredoc[2]) {
    first++;
    last--;
    skipBlankEdges();
    if (first > last) throw new PatchParseError(first + 1, `the patch is empty; it must start with '${BEGIN_PATCH}' and end with '${END_PATCH}'`);
  }
  if (lines[first]!.trim() !== BEGIN_PATCH) {
    throw new PatchParseError(first + 1, `the first line of the patch must be '${BEGIN_PATCH}', got: '${lines[first]}'`);
  }
  if (last === first || lines[last]!.trim() !== END_PATCH) {
    throw new PatchParseError(last + 1, `the last line of the patch must be '${END_PATCH}', got: '${lines[last]}'`);
  }

  const end = last; // exclusive bound of the hunk lines
  const hunks: PatchHunk[] = [];
  let i = first + 1;

  const headerPath = (t: string, prefix: string, lineIdx: number): string => {
    const p = t.slice(prefix.length).trim();
    if (p === '') throw new PatchParseError(lineIdx + 1, `missing path after '${prefix.trim()}'`);
    return p;
  };

  const parseChunk = (allowMissingHeader: boolean): UpdateChunk => {
    const start = i;
    const headerLine = lines[i]!;
    let context: string | null = null;
    if (headerLine.trimEnd() === '@@') {
      i++;
    } else if (headerLine.startsWith('@@ ')) {
      context = headerLine.slice(3);
      const unified = UNIFIED_RANGE.exec(context.trim());
      if (unified) context = unified[1]!.trim() === '' ? null : unified[1]!;
      else if (context.trim() === '') context = null;
      i++;
    } else if (!allowMissingHeader) {
      throw new PatchParseError(i + 1, `expected an update hunk to start with an '@@' line, got: '${headerLine}'`);
    }
    const oldLines: string[] = [];
    const newLines: string[] = [];
    const newFromOld: (number | null)[] = [];
    const pushContext = (text: string): void => {
      newFromOld.push(oldLines.length);
      oldLines.push(text);
      newLines.push(text);
    };
    let isEndOfFile = false;
    let count = 0;
    while (i < end) {
      const l = lines[i]!;
      if (l.trim() === END_OF_FILE) {
        if (count === 0) throw new PatchParseError(i + 1, 'update hunk does not contain any lines before *** End of File');
        isEndOfFile = true;
        i++;
        break;
      }
      if (l === '') {
        pushContext('');
      } else if (l[0] === ' ') {
        pushContext(l.slice(1));
      } else if (l[0] === '-') {
        oldLines.push(l.slice(1));
      } else if (l[0] === '+') {
        newFromOld.push(null);
        newLines.push(l.slice(1));
      } else {
        if (count === 0) {
          throw new PatchParseError(
            i + 1,
            `unexpected line in update hunk: '${l}'. Every hunk line must start with ' ' (context), '+' (added) or '-' (removed)`,
          );
        }
        break; // the next hunk or file operation
      }
      count++;
      i++;
    }
    if (count === 0) throw new PatchParseError(start + 1, 'update hunk does not contain any lines');
    return { context, oldLines, newLines, newFromOld, isEndOfFile, line: start + 1 };
  };

  while (i < end) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '') {
      i++;
      continue;
    }
    const headerIdx = i;
    if (t.startsWith(ADD_FILE)) {
      const p = headerPath(t, ADD_FILE, i);
      i++;
      let contents = '';
      while (i < end && lines[i]!.startsWith('+')) {
        contents += `${lines[i]!.slice(1)}\n`;
        i++;
      }
      hunks.push({ type: 'add', path: p, contents, line: headerIdx + 1 });
    } else if (t.startsWith(DELETE_FILE)) {
      hunks.push({ type: 'delete', path: headerPath(t, DELETE_FILE, i), line: headerIdx + 1 });
      i++;
    } else if (t.startsWith(UPDATE_FILE)) {
      const p = headerPath(t, UPDATE_FILE, i);
      i++;
      let movePath: string | null = null;
      if (i < end && lines[i]!.trim().startsWith(MOVE_TO)) {
        movePath = headerPath(lines[i]!.trim(), MOVE_TO, i);
        i++;
      }
      const chunks: UpdateChunk[] = [];
      while (i < end) {
        const l = lines[i]!;
        if (l.trim() === '') {
          i++; // blank lines between hunks
          continue;
        }
        if (l.startsWith('***')) break;
        chunks.push(parseChunk(chunks.length === 0));
      }
      if (chunks.length === 0) throw new PatchParseError(headerIdx + 1, `update of '${p}' contains no hunks`);
      hunks.push({ type: 'update', path: p, movePath, chunks, line: headerIdx + 1 });
    } else {
      throw new PatchParseError(
        i + 1,
        `'${line}' is not a valid file operation; expected '*** Add File: <path>', '*** Delete File: <path>', '*** Update File: <path>' or '${END_PATCH}'`,
      );
    }
  }
  if (hunks.length === 0) throw new PatchParseError(first + 1, 'the patch contains no file operations');
  return { hunks };
}

// ---------------------------------------------------------------------------------------------
// Applying

class PatchApplyError extends Error {}

function normalizePunctuation(s: string): string {
  return s
    .trim()
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019\u201A\u201B]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F]/g, '"')
    .replace(/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, ' ');
}

const COMPARATORS: ((a: string, b: string) => boolean)[] = [
  (a, b) => a === b,
  (a, b) => a.trimEnd() === b.trimEnd(),
  (a, b) => a.trim() === b.trim(),
  (a, b) => normalizePunctuation(a) === normalizePunctuation(b),
];

/**
 * Index of `pattern` in `lines` at or after `start` (-1 if absent): each comparison pass
 * (exact, trimEnd, trim, punctuation-normalized) scans fully before the next, more lenient one.
 * With `eof` the end of the file is tried first.
 */
export function seekSequence(lines: string[], pattern: string[], start: number, eof: boolean): number {
  if (pattern.length === 0) return start;
  if (pattern.length > lines.length) return -1;
  const maxStart = lines.length - pattern.length;
  const matchesAt = (at: number, eq: (a: string, b: string) => boolean): boolean => {
    for (let k = 0; k < pattern.length; k++) if (!eq(lines[at + k]!, pattern[k]!)) return false;
    return true;
  };
  if (eof && maxStart >= start) {
    for (const eq of COMPARATORS) if (matchesAt(maxStart, eq)) return maxStart;
  }
  for (const eq of COMPARATORS) {
    for (let at = start; at <= maxStart; at++) if (matchesAt(at, eq)) return at;
  }
  return -1;
}

function indentBlock(lines: string[]): string {
  return lines.length === 0 ? '  (none)' : lines.map((l) => `  ${l}`).join('\n');
}

/** New content of a file after the update chunks; throws PatchApplyError naming the failing hunk. */
export function applyChunks(content: string, chunks: UpdateChunk[], displayPath: string): string {
  const crlf = content.includes('\r\n') && !/(^|[^\r])\n/.test(content);
  const eol = crlf ? '\r\n' : '\n';
  const lines = content.split(eol);
  if (lines[lines.length - 1] === '') lines.pop();

  const replacements: { start: number; oldLength: number; newLines: string[] }[] = [];
  let lineIndex = 0;
  chunks.forEach((chunk, k) => {
    const which = `hunk ${k + 1} of ${chunks.length} (patch line ${chunk.line})`;
    if (chunk.context !== null) {
      const idx = seekSequence(lines, [chunk.context], lineIndex, false);
      if (idx === -1) {
        throw new PatchApplyError(`${which} for '${displayPath}': could not find the context line from its header:\n  @@ ${chunk.context}`);
      }
      lineIndex = idx + 1;
    }
    if (chunk.oldLines.length === 0) {
      // Pure addition: right after the header line when one was given, else at the end of the file.
      const at = chunk.context !== null && !chunk.isEndOfFile ? lineIndex : lines.length;
      replacements.push({ start: at, oldLength: 0, newLines: chunk.newLines });
      lineIndex = at;
      return;
    }
    let pattern = chunk.oldLines;
    let newLines = chunk.newLines;
    let found = seekSequence(lines, pattern, lineIndex, chunk.isEndOfFile);
    // Blank lines at the end of a hunk are often just separators: retry without them.
    while (found === -1 && pattern.length > 1 && pattern[pattern.length - 1] === '') {
      pattern = pattern.slice(0, -1);
      if (newLines[newLines.length - 1] === '') newLines = newLines.slice(0, -1);
      found = seekSequence(lines, pattern, lineIndex, chunk.isEndOfFile);
    }
    if (found === -1) {
      throw new PatchApplyError(
        `${which} for '${displayPath}': could not find the expected lines${lineIndex > 0 ? ` (searching from line ${lineIndex + 1})` : ''}:\n${indentBlock(chunk.oldLines)}`,
      );
    }
    // Context lines keep the file's own text (they may have matched only modulo whitespace).
    const kept = newLines.map((text, k) => {
      const oldIdx = chunk.newFromOld[k];
      return oldIdx !== null && oldIdx !== undefined && oldIdx < pattern.length ? lines[found + oldIdx]! : text;
    });
    replacements.push({ start: found, oldLength: pattern.length, newLines: kept });
    lineIndex = found + pattern.length;
  });

  for (let r = replacements.length - 1; r >= 0; r--) {
    const { start, oldLength, newLines } = replacements[r]!;
    lines.splice(start, oldLength, ...newLines);
  }
  return lines.length === 0 ? '' : lines.join(eol) + eol;
}

const ApplyPatchArgs = z.object({
  input: z.string(),
});

/** Virtual view of the files a patch touches, so every operation is validated before anything is written. */
class PendingChanges {
  /** Canonical path → new content, or null for a deletion. Insertion-ordered. */
  readonly files = new Map<string, string | null>();
  readonly modes = new Map<string, number>();

  async read(abs: string, displayPath: string): Promise<string | null> {
    if (this.files.has(abs)) return this.files.get(abs)!;
    let st: Stats;
    try {
      st = await fs.stat(abs);
    } catch (e) {
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return null;
      throw e;
    }
    if (st.isDirectory()) throw new PatchApplyError(`'${displayPath}' is a directory, not a file`);
    return fs.readFile(abs, 'utf8');
  }

  async assertWritable(abs: string, displayPath: string): Promise<void> {
    if (this.files.has(abs)) return;
    try {
      if ((await fs.stat(abs)).isDirectory()) throw new PatchApplyError(`'${displayPath}' is a directory, not a file`);
    } catch (e) {
      if (e instanceof PatchApplyError) throw e;
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return;
      throw e;
    }
  }
}

async function resolvePatchPath(ctx: ToolContext, p: string): Promise<string> {
  if (path.isAbsolute(p)) {
    throw new PatchApplyError(`'${p}' is an absolute path; apply_patch paths must be relative to the ${ctx.workdir ? 'working directory' : 'run directory'}`);
  }
  return resolveInsideRunDir(ctx.runDir, p, ctx.workdir);
}

/** Applies a Codex-format patch inside the run directory: all hunks are verified in memory before any file is written. */
export async function applyPatch(args: unknown, ctx: ToolContext): Promise<ToolResult> {
  const parsedArgs = ApplyPatchArgs.safeParse(args);
  if (!parsedArgs.success) return argsError('apply_patch', parsedArgs.error);

  let patch: Patch;
  try {
    patch = parsePatch(parsedArgs.data.input);
  } catch (e) {
    if (e instanceof PatchParseError) return errorResult(e.message);
    throw e;
  }

  const pending = new PendingChanges();
  const summary: string[] = [];
  try {
    for (const hunk of patch.hunks) {
      const abs = await resolvePatchPath(ctx, hunk.path);
      if (hunk.type === 'add') {
        await pending.assertWritable(abs, hunk.path);
        pending.files.set(abs, hunk.contents);
        summary.push(`A ${hunk.path}`);
      } else if (hunk.type === 'delete') {
        const current = await pending.read(abs, hunk.path);
        if (current === null) throw new PatchApplyError(`cannot delete '${hunk.path}' (patch line ${hunk.line}): the file does not exist`);
        pending.files.set(abs, null);
        summary.push(`D ${hunk.path}`);
      } else {
        const current = await pending.read(abs, hunk.path);
        if (current === null) throw new PatchApplyError(`cannot update '${hunk.path}' (patch line ${hunk.line}): the file does not exist`);
        const updated = applyChunks(current, hunk.chunks, hunk.path);
        if (hunk.movePath !== null) {
          const dest = await resolvePatchPath(ctx, hunk.movePath);
          if (dest !== abs) {
            await pending.assertWritable(dest, hunk.movePath);
            try {
              const mode = pending.modes.get(abs) ?? (await fs.stat(abs)).mode;
              pending.modes.set(dest, mode);
            } catch {
              // a file added earlier in this patch: default mode
            }
            pending.files.set(abs, null);
          }
          pending.files.set(dest, updated);
          summary.push(`M ${hunk.movePath}`);
        } else {
          pending.files.set(abs, updated);
          summary.push(`M ${hunk.path}`);
        }
      }
    }
  } catch (e) {
    if (e instanceof PatchApplyError) return errorResult(`apply_patch verification failed; no files were changed: ${e.message}`);
    if (e instanceof PathOutsideRunDirError) return errorResult(`apply_patch refused; no files were changed: ${e.message}`);
    if (isErrnoException(e)) return errorResult(`apply_patch verification failed; no files were changed: ${describeFsError(e, e.path ?? '')}`);
    throw e;
  }

  // Everything applies: write. Deletions first, so a deleted file may become a directory.
  try {
    for (const [abs, content] of pending.files) {
      if (content === null) await fs.rm(abs, { force: true });
    }
    for (const [abs, content] of pending.files) {
      if (content === null) continue;
      await fs.mkdir(path.dirname(abs), { recursive: true });
      await fs.writeFile(abs, content, 'utf8');
      const mode = pending.modes.get(abs);
      if (mode !== undefined) await fs.chmod(abs, mode & 0o7777);
    }
  } catch (e) {
    if (isErrnoException(e)) {
      return errorResult(`apply_patch failed while writing (some files may already have been changed): ${describeFsError(e, e.path ?? '')}`);
    }
    throw e;
  }
  return textResult(`Success. Updated the following files:\n${summary.join('\n')}`);
}
