/**
 * Shared transcript prefixes of forked runs (docs/architecture.md decision 13): a fork's transcript may
 * begin with one `prefix` line standing for the first `lines` lines of another run's transcript
 * (which may itself be a fork). Readers see the resolved lines; writers keep the one line.
 */

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { transcriptFileName } from '../protocol/items';
import { fileId, type ReadFile } from './transcriptCache';

export interface PrefixLink {
  type: 'prefix';
  run: string;
  role: string;
  generation: number;
  lines: number;
}

/** A transcript's lines as readers see them; `head`: the prefix line the file starts with, and how many lines it stands for. */
export interface TranscriptLines {
  lines: string[];
  head?: { line: string; count: number };
}

const MAX_DEPTH = 64;

export function prefixLine(link: Omit<PrefixLink, 'type'>): string {
  return JSON.stringify({ type: 'prefix', run: link.run, role: link.role, generation: link.generation, lines: link.lines });
}

/**
 * The file's lines; with `files`, also records the file as stat'ed just before the read, unless what was
 * read is not exactly that (another size, or a last line without its newline, which an append would join).
 */
async function rawLines(path: string, files?: ReadFile[]): Promise<string[]> {
  const before = files ? await fileId(path) : undefined;
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    data = Buffer.alloc(0);
  }
  const text = data.toString('utf8');
  const whole = before?.size === BigInt(data.length) && (text === '' || text.endsWith('\n'));
  files?.push({ path, id: whole ? before : undefined });
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function linkOf(line: string | undefined): PrefixLink | undefined {
  if (!line?.startsWith('{"type":"prefix"')) return undefined;
  return JSON.parse(line) as PrefixLink;
}

/** The transcript of `link` next to `path` (transcripts live in INFTY_HOME/transcripts/<run>/). */
function linkedPath(path: string, link: PrefixLink): string {
  return join(dirname(dirname(path)), link.run, transcriptFileName(link.role, link.generation));
}

/**
 * The lines of the transcript at `path`, a prefix line replaced by the lines it stands for (recursively).
 * `files` collects the files read, for the transcript cache.
 */
export async function readTranscriptLines(path: string, files?: ReadFile[], depth = 0): Promise<TranscriptLines> {
  const lines = await rawLines(path, files);
  const link = linkOf(lines[0]);
  if (!link) return { lines };
  if (depth >= MAX_DEPTH) throw ApplicationFailure.nonRetryable(`transcript ${path}: prefix links nest deeper than ${MAX_DEPTH}`, 'TranscriptCorrupt');
  const source = linkedPath(path, link);
  const shared = (await readTranscriptLines(source, files, depth + 1)).lines;
  if (shared.length < link.lines) {
    throw ApplicationFailure.nonRetryable(`transcript ${path} shares ${link.lines} lines of ${source}, which has ${shared.length}`, 'TranscriptCorrupt');
  }
  return { lines: [...shared.slice(0, link.lines), ...lines.slice(1)], head: { line: lines[0]!, count: link.lines } };
}

/** The file text holding the first `length` resolved lines: a shared prefix stays one line. */
export function fileText(t: TranscriptLines, length: number): string {
  if (!t.head)
    return t.lines
      .slice(0, length)
      .map((l) => `${l}\n`)
      .join('');
  if (length < t.head.count) {
    throw ApplicationFailure.nonRetryable(`cannot cut a transcript to ${length} lines inside its shared prefix of ${t.head.count}`, 'TranscriptCorrupt');
  }
  return `${t.head.line}\n${t.lines
    .slice(t.head.count, length)
    .map((l) => `${l}\n`)
    .join('')}`;
}
