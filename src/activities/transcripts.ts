/**
 * Per-role transcripts outside workflow history (ARCHITECTURE decision 1): append-only JSONL under
 * INFTY_HOME/transcripts/<run_id>/. Committing truncates back to the workflow's committed length
 * first, so a step retried after a crash leaves the file exactly as one successful step would.
 */
import { ApplicationFailure } from '@temporalio/common';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { transcriptFileName, type TranscriptItem } from '../protocol/items';

export function transcriptsDir(home: string, runId: string): string {
  return join(home, 'transcripts', runId);
}

export function transcriptPath(home: string, runId: string, role: string, generation: number): string {
  return join(transcriptsDir(home, runId), transcriptFileName(role, generation));
}

async function readLines(path: string): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The first `length` items of a transcript (lines after them, e.g. a torn write, are ignored). */
export async function readTranscript(path: string, length?: number): Promise<TranscriptItem[]> {
  const lines = await readLines(path);
  const n = length ?? lines.length;
  if (lines.length < n) {
    throw ApplicationFailure.nonRetryable(
      `transcript ${path} has ${lines.length} lines but the workflow committed ${n}; it was truncated or deleted outside Infty`,
      'TranscriptCorrupt',
    );
  }
  return lines.slice(0, n).map((line, i) => {
    try {
      return JSON.parse(line) as TranscriptItem;
    } catch {
      throw ApplicationFailure.nonRetryable(`transcript ${path} line ${i + 1} is not valid JSON`, 'TranscriptCorrupt');
    }
  });
}

/** Truncates the transcript to `committedLength` lines, then appends `items`. Returns the whole conversation. */
export async function commitItems(path: string, committedLength: number, items: TranscriptItem[]): Promise<TranscriptItem[]> {
  await mkdir(dirname(path), { recursive: true });
  const lines = await readLines(path);
  const kept = await readTranscript(path, committedLength);
  if (lines.length > committedLength) {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, lines.slice(0, committedLength).map((l) => `${l}\n`).join(''));
    await rename(tmp, path);
  }
  await appendItems(path, items);
  return [...kept, ...items];
}

export async function appendItems(path: string, items: TranscriptItem[]): Promise<void> {
  if (items.length === 0) return;
  await appendFile(path, items.map((i) => `${JSON.stringify(i)}\n`).join(''));
}
