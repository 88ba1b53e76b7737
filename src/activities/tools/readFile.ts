/** The `read_file` tool: numbered lines of a text file inside the run directory. */
import { createReadStream, promises as fs } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { describeFsError, formatArgsError, isErrnoException, type ToolContext } from './context';
import { PathOutsideRunDirError, resolveInsideRunDir } from './paths';

export const DEFAULT_READ_LIMIT = 2000;
export const MAX_LINE_LENGTH = 500;
const BINARY_SNIFF_BYTES = 8192;

const ReadFileArgs = z.object({
  path: z.string().min(1, 'must be a non-empty path'),
  offset: z.number().int().min(1, 'must be a 1-based line number (>= 1)').optional(),
  limit: z.number().int().min(1, 'must be at least 1').optional(),
});

function cutLine(line: string): string {
  if (line.length <= MAX_LINE_LENGTH) return line;
  let cut = MAX_LINE_LENGTH;
  const code = line.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // do not split a surrogate pair
  return line.slice(0, cut);
}

/** Lines [offset, offset+limit) of the file (1-based), plus whether the file has at least `offset` lines. */
async function readLines(abs: string, offset: number, limit: number): Promise<{ lines: string[]; totalSeen: number }> {
  const stream = createReadStream(abs);
  const decoder = new StringDecoder('utf8');
  const lines: string[] = [];
  let lineNo = 0;
  let pending = '';
  const take = (line: string): boolean => {
    lineNo++;
    if (lineNo >= offset) lines.push(cutLine(line.endsWith('\r') ? line.slice(0, -1) : line));
    return lines.length >= limit;
  };
  try {
    for await (const chunk of stream) {
      pending += decoder.write(chunk as Buffer);
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (take(line)) return { lines, totalSeen: lineNo };
      }
      // Very long lines: only the first MAX_LINE_LENGTH characters are ever shown.
      if (pending.length > 4 * MAX_LINE_LENGTH) pending = pending.slice(0, 2 * MAX_LINE_LENGTH);
    }
    pending += decoder.end();
    if (pending.length > 0) take(pending);
    return { lines, totalSeen: lineNo };
  } finally {
    stream.destroy();
  }
}

/** Reads `limit` lines (default 2000) from 1-based line `offset` (default 1) as `L<n>: <text>`. */
export async function readFile(args: unknown, ctx: ToolContext): Promise<string> {
  const parsed = ReadFileArgs.safeParse(args);
  if (!parsed.success) return formatArgsError('read_file', parsed.error);
  const { path: p } = parsed.data;
  const offset = parsed.data.offset ?? 1;
  const limit = parsed.data.limit ?? DEFAULT_READ_LIMIT;
  try {
    const abs = await resolveInsideRunDir(ctx.runDir, p);
    let st;
    try {
      st = await fs.stat(abs);
    } catch (e) {
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return `Error: file not found: ${p}`;
      throw e;
    }
    if (st.isDirectory()) return `Error: ${p} is a directory, not a file; use list_dir to see its contents`;
    if (!st.isFile()) return `Error: ${p} is not a regular file`;

    const fh = await fs.open(abs, 'r');
    try {
      const sniff = Buffer.alloc(Math.min(BINARY_SNIFF_BYTES, st.size));
      const { bytesRead } = await fh.read(sniff, 0, sniff.length, 0);
      if (sniff.subarray(0, bytesRead).includes(0)) return `Error: ${p} appears to be a binary file (it contains NUL bytes); read_file only reads text files`;
    } finally {
      await fh.close();
    }
    if (st.size === 0) return offset === 1 ? '(empty file)' : `Error: offset ${offset} exceeds the file length (the file is empty)`;

    const { lines, totalSeen } = await readLines(abs, offset, limit);
    if (lines.length === 0) return `Error: offset ${offset} exceeds the file length (${totalSeen} lines)`;
    return lines.map((line, k) => `L${offset + k}: ${line}`).join('\n');
  } catch (e) {
    if (e instanceof PathOutsideRunDirError) return `Error: ${e.message}`;
    if (isErrnoException(e)) return `Error: cannot read ${p}: ${describeFsError(e, p)}`;
    throw e;
  }
}
