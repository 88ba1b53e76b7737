/**
 * Per-role transcripts outside workflow history (docs/architecture.md decision 1): append-only JSONL under
 * INFTY_HOME/transcripts/<run_id>/. Every write is fenced to one activity attempt and fsynced
 * (docs/architecture.md decision 10). A fork's transcript may start with a shared prefix line (decision 13). A model step ends with a `step_end` line holding its input hash and usage, so a
 * retried step that finds its response already written for the same committed prefix reuses it
 * instead of paying for it again (docs/behaviour.md §8).
 */

import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { type StepEnd, type TranscriptItem, transcriptFileName } from '../protocol/items';
import { withFence } from './durable/fence';
import { appendDurable, writeFileDurable } from './durable/files';
import { fileText, readTranscriptLines, type TranscriptLines } from './transcriptPrefix';

export function transcriptsDir(home: string, runId: string): string {
  return join(home, 'transcripts', runId);
}

export function transcriptPath(home: string, runId: string, role: string, generation: number): string {
  return join(transcriptsDir(home, runId), transcriptFileName(role, generation));
}

function parseLine(path: string, line: string, index: number): TranscriptItem {
  try {
    return JSON.parse(line) as TranscriptItem;
  } catch {
    throw ApplicationFailure.nonRetryable(`transcript ${path} line ${index + 1} is not valid JSON`, 'TranscriptCorrupt');
  }
}

function committedPrefix(path: string, lines: string[], length: number): TranscriptItem[] {
  if (lines.length < length) {
    throw ApplicationFailure.nonRetryable(
      `transcript ${path} has ${lines.length} lines but the workflow committed ${length}; it was truncated or deleted outside Infty`,
      'TranscriptCorrupt',
    );
  }
  return lines.slice(0, length).map((line, i) => parseLine(path, line, i));
}

/** The first `length` items of a transcript (lines after them, e.g. a torn write, are ignored). */
export async function readTranscript(path: string, length?: number): Promise<TranscriptItem[]> {
  const { lines } = await readTranscriptLines(path);
  return committedPrefix(path, lines, length ?? lines.length);
}

const toLines = (items: TranscriptItem[]): string => items.map((i) => `${JSON.stringify(i)}\n`).join('');

/** Rewrites the file to exactly `lines` + `items` when it holds more than `lines`, else appends `items`. */
async function truncateAndAppend(path: string, t: TranscriptLines, committedLength: number, items: TranscriptItem[]): Promise<void> {
  if (t.lines.length > committedLength) {
    await writeFileDurable(path, fileText(t, committedLength) + toLines(items));
  } else if (items.length > 0) {
    await appendDurable(path, toLines(items));
  }
}

/** Truncates the transcript to `committedLength` lines, then appends `items`. Returns the whole conversation. */
export async function commitItems(path: string, committedLength: number, items: TranscriptItem[], token: number): Promise<TranscriptItem[]> {
  await mkdir(dirname(path), { recursive: true });
  return withFence(path, token, async () => {
    const t = await readTranscriptLines(path);
    const kept = committedPrefix(path, t.lines, committedLength);
    await truncateAndAppend(path, t, committedLength, items);
    return [...kept, ...items];
  });
}

/** A step already written after the committed prefix: its output items and its end record. */
export interface WrittenStep {
  outputs: TranscriptItem[];
  end: StepEnd;
  /** Transcript length after the step (its step_end line included). */
  length: number;
}

/**
 * The step after `committedLength` if a previous attempt wrote it whole: the same new items, then
 * outputs, then a step_end with the same input hash. A torn or different tail is not a step.
 */
function writtenStep(lines: string[], committedLength: number, newItems: TranscriptItem[], inputSha256: string): WrittenStep | undefined {
  const tail = lines.slice(committedLength);
  for (let i = 0; i < newItems.length; i++) if (tail[i] !== JSON.stringify(newItems[i])) return undefined;
  const outputs: TranscriptItem[] = [];
  for (let i = newItems.length; i < tail.length; i++) {
    let item: TranscriptItem;
    try {
      item = JSON.parse(tail[i]!) as TranscriptItem;
    } catch {
      return undefined;
    }
    if (item.type === 'step_end') {
      return item.input_sha256 === inputSha256 ? { outputs, end: item, length: committedLength + i + 1 } : undefined;
    }
    outputs.push(item);
  }
  return undefined;
}

/**
 * Starts a model step: returns the conversation to send, or the step a previous attempt already
 * completed (the transcript is then cut just after it).
 */
export async function beginStep(
  path: string,
  committedLength: number,
  newItems: TranscriptItem[],
  inputSha256: string,
  token: number,
): Promise<{ history: TranscriptItem[]; bytes: number; written?: WrittenStep }> {
  await mkdir(dirname(path), { recursive: true });
  return withFence(path, token, async () => {
    const t = await readTranscriptLines(path);
    const { lines } = t;
    const kept = committedPrefix(path, lines, committedLength);
    const written = writtenStep(lines, committedLength, newItems, inputSha256);
    if (written) {
      if (lines.length > written.length) await writeFileDurable(path, fileText(t, written.length));
      return { history: [...kept, ...newItems], bytes: (await stat(path)).size, written };
    }
    await truncateAndAppend(path, t, committedLength, newItems);
    return { history: [...kept, ...newItems], bytes: (await stat(path)).size };
  });
}

/**
 * Appends a step's outputs and its end record in one fsynced write; returns the new length.
 * `step` is what beginStep left: the file must still be exactly that (checked by size).
 */
export async function endStep(path: string, step: { lines: number; bytes: number }, outputs: TranscriptItem[], end: StepEnd, token: number): Promise<number> {
  return withFence(path, token, async () => {
    const bytes = (await stat(path)).size;
    if (bytes !== step.bytes) {
      throw ApplicationFailure.retryable(`transcript ${path} changed during the model step (${bytes} bytes, expected ${step.bytes})`, 'TranscriptRace');
    }
    await appendDurable(path, toLines([...outputs, end]));
    return step.lines + outputs.length + 1;
  });
}

/** Writes a whole new transcript generation (compaction) atomically. */
export async function writeTranscript(path: string, items: TranscriptItem[], token: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await withFence(path, token, () => writeFileDurable(path, toLines(items)));
}
