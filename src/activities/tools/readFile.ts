/** The `read_file` tool: numbered lines of a text file inside the run directory. */
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { argsError, describeFsError, isErrnoException, type ToolContext } from './context';
import { errorResult, type ToolResult, textResult } from './output';
import { PathOutsideRunDirError, resolveInsideRunDir } from './paths';

export const DEFAULT_READ_LIMIT = 2000;
export const MAX_LINE_LENGTH = 500;
/** Output collected before read_file stops reading (executeTool then truncates it further). */
export const MAX_READ_BYTES = 64 * 1024;
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

interface ReadLines {
  lines: string[];
  /** Lines seen in the file (all of them unless reading stopped early). */
  totalSeen: number;
  /** Reading stopped at MAX_READ_BYTES of output before `limit` lines. */
  stoppedEarly: boolean;
  /** Some bytes read were not UTF-8 text (shown as U+FFFD). */
  notText: boolean;
}

/** Lines [offset, offset+limit) of the file (1-based), at most about MAX_READ_BYTES of them. */
async function readLines(abs: string, offset: number, limit: number): Promise<ReadLines> {
  const stream = createReadStream(abs);
  const decoder = new StringDecoder('utf8');
  const validator = new TextDecoder('utf-8', { fatal: true });
  const lines: string[] = [];
  let bytes = 0;
  let lineNo = 0;
  let pending = '';
  let notText = false;
  const done = (stoppedEarly: boolean): ReadLines => ({ lines, totalSeen: lineNo, stoppedEarly, notText });
  /** Takes one line; says whether to stop (limit reached, or the byte bound). */
  const take = (line: string): 'more' | 'limit' | 'bytes' => {
    lineNo++;
    if (lineNo < offset) return 'more';
    let text = cutLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (text.includes('\0')) {
      notText = true;
      text = text.replace(/\0/g, '\uFFFD');
    }
    lines.push(text);
    bytes += Buffer.byteLength(text) + 10;
    if (lines.length >= limit) return 'limit';
    return bytes >= MAX_READ_BYTES ? 'bytes' : 'more';
  };
  try {
    for await (const chunk of stream) {
      if (!notText) {
        try {
          validator.decode(chunk as Buffer, { stream: true });
        } catch {
          notText = true;
        }
      }
      pending += decoder.write(chunk as Buffer);
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const next = take(line);
        if (next !== 'more') return done(next === 'bytes');
      }
      // Very long lines: only the first MAX_LINE_LENGTH characters are ever shown.
      if (pending.length > 4 * MAX_LINE_LENGTH) pending = pending.slice(0, 2 * MAX_LINE_LENGTH);
    }
    pending += decoder.end();
    if (!notText) {
      try {
        validator.decode();
      } catch {
        notText = true;
      }
    }
    if (pending.length > 0) take(pending);
    return done(false);
  } finally {
    stream.destroy();
  }
}

/** Reads `limit` lines (default 2000) from 1-based line `offset` (default 1) as `L<n>: <text>`. */
export async function readFile(args: unknown, ctx: ToolContext): Promise<ToolResult> {
  const parsed = ReadFileArgs.safeParse(args);
  if (!parsed.success) return argsError('read_file', parsed.error);
  const { path: p } = parsed.data;
  const offset = parsed.data.offset ?? 1;
  const limit = parsed.data.limit ?? DEFAULT_READ_LIMIT;
  try {
    const abs = await resolveInsideRunDir(ctx.runDir, p, ctx.workdir);
    let st: Stats;
    try {
      st = await fs.stat(abs);
    } catch (e) {
      if (isErrnoException(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return errorResult(`file not found: ${p}`);
      throw e;
    }
    if (st.isDirectory()) return errorResult(`${p} is a directory, not a file; use list_dir to see its contents`);
    if (!st.isFile()) return errorResult(`${p} is not a regular file`);

    const fh = await fs.open(abs, 'r');
    try {
      const sniff = Buffer.alloc(Math.min(BINARY_SNIFF_BYTES, st.size));
      const { bytesRead } = await fh.read(sniff, 0, sniff.length, 0);
      if (sniff.subarray(0, bytesRead).includes(0)) {
        return errorResult(`${p} appears to be a binary file (${st.size} bytes, it contains NUL bytes); read_file only reads text files`);
      }
    } finally {
      await fh.close();
    }
    if (st.size === 0) return offset === 1 ? textResult('(empty file)') : errorResult(`offset ${offset} exceeds the file length (the file is empty)`);

    const { lines, totalSeen, stoppedEarly, notText } = await readLines(abs, offset, limit);
    if (lines.length === 0) return errorResult(`offset ${offset} exceeds the file length (${totalSeen} lines)`);
    const out = lines.map((line, k) => `L${offset + k}: ${line}`);
    const last = offset + lines.length - 1;
    if (notText) out.push(`[note: ${p} is not valid UTF-8; invalid bytes are shown as \uFFFD]`);
    if (stoppedEarly) out.push(`[read_file stopped at line ${last} after ${MAX_READ_BYTES} bytes of output; continue with offset ${last + 1}]`);
    return textResult(out.join('\n'));
  } catch (e) {
    if (e instanceof PathOutsideRunDirError) return errorResult(e.message);
    if (isErrnoException(e)) return errorResult(`cannot read ${p}: ${describeFsError(e, p)}`);
    throw e;
  }
}
