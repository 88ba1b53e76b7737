import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginStep, commitItems as commitWithToken, endStep, readTranscript, transcriptPath, transcriptsDir } from '../../src/activities/transcripts';
import type { TranscriptItem } from '../../src/protocol/items';

/** One attempt's token: these tests exercise truncation and reading, fencing has its own tests. */
const commitItems = (path: string, committed: number, items: TranscriptItem[]) => commitWithToken(path, committed, items, 1);
const appendItems = (path: string, items: TranscriptItem[]) => appendFileSync(path, lines(items));

let home: string;
let n = 0;
const freshPath = () => transcriptPath(home, `run-${++n}`, 'solver', 0);

const instr: TranscriptItem = { type: 'instructions', text: 'be helpful' };
const u1: TranscriptItem = { type: 'message', role: 'user', text: 'objective: line\nbreaks "quoted"' };
const c1: TranscriptItem = { type: 'function_call', callId: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' };
const o1: TranscriptItem = { type: 'function_call_output', callId: 'call_1', output: 'a\nb' };
const a1: TranscriptItem = { type: 'message', role: 'assistant', text: 'done' };

const lines = (items: TranscriptItem[]) => items.map((i) => `${JSON.stringify(i)}\n`).join('');

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'infty-transcripts-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('transcriptPath', () => {
  it('names generation 0 <role>.jsonl and later generations <role>.<gen>.jsonl under transcripts/<run_id>', () => {
    expect(transcriptsDir('/h', 'r1')).toBe(join('/h', 'transcripts', 'r1'));
    expect(transcriptPath('/h', 'r1', 'solver', 0)).toBe(join('/h', 'transcripts', 'r1', 'solver.jsonl'));
    expect(transcriptPath('/h', 'r1', 'verifier-alpha', 2)).toBe(join('/h', 'transcripts', 'r1', 'verifier-alpha.2.jsonl'));
    expect(transcriptPath('/h', 'r1', 'director', 1)).toBe(join('/h', 'transcripts', 'r1', 'director.1.jsonl'));
  });
});

describe('commitItems', () => {
  it('creates the directory and file and returns the whole conversation', async () => {
    const path = freshPath();
    expect(await commitItems(path, 0, [instr, u1])).toEqual([instr, u1]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1]));
    expect(await commitItems(path, 2, [c1, o1])).toEqual([instr, u1, c1, o1]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1, c1, o1]));
    expect(await readTranscript(path)).toEqual([instr, u1, c1, o1]);
  });

  it('committing nothing leaves the file as it is', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    expect(await commitItems(path, 1, [])).toEqual([instr]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr]));
  });

  it('a step retried after a crash that appended extra whole lines leaves the file as one successful commit', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr, u1]);
    const expected = lines([instr, u1, c1, o1]);
    // The crashed attempt appended its items (and more) but the workflow never recorded the commit.
    await appendItems(path, [c1, o1, a1]);
    expect(await commitItems(path, 2, [c1, o1])).toEqual([instr, u1, c1, o1]);
    expect(readFileSync(path, 'utf8')).toBe(expected);
  });

  it('a torn partial last line is removed by the retried commit', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr, u1]);
    appendFileSync(path, `${JSON.stringify(c1)}\n${JSON.stringify(o1).slice(0, 17)}`);
    expect(await commitItems(path, 2, [c1, o1])).toEqual([instr, u1, c1, o1]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1, c1, o1]));
  });

  it('a torn line right after the committed prefix (no newline) is removed too', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    appendFileSync(path, '{"type":"mess');
    await commitItems(path, 1, [u1]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1]));
  });

  it('repeating the same commit any number of times is idempotent', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    for (let i = 0; i < 3; i++) await commitItems(path, 1, [u1, c1]);
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1, c1]));
  });

  it('refuses to commit on top of a transcript shorter than the committed length', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    await expect(commitItems(path, 3, [u1])).rejects.toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
    expect(readFileSync(path, 'utf8')).toBe(lines([instr]));
  });
});

describe('readTranscript', () => {
  it('a missing file reads as empty', async () => {
    expect(await readTranscript(join(home, 'nope', 'x.jsonl'))).toEqual([]);
    expect(await readTranscript(join(home, 'nope', 'x.jsonl'), 0)).toEqual([]);
  });

  it('returns only the committed prefix, ignoring lines after it', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr, u1, c1]);
    appendFileSync(path, '{"torn');
    expect(await readTranscript(path, 2)).toEqual([instr, u1]);
    expect(await readTranscript(path, 3)).toEqual([instr, u1, c1]);
  });

  it('throws a non-retryable TranscriptCorrupt ApplicationFailure when the file is shorter than committed', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr, u1]);
    const err = await readTranscript(path, 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
    expect((err as Error).message).toMatch(/2 lines.*committed 5/);
  });

  it('throws TranscriptCorrupt when the file was deleted after a commit', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    rmSync(path);
    await expect(readTranscript(path, 1)).rejects.toBeInstanceOf(ApplicationFailure);
  });

  it('throws TranscriptCorrupt for an unparsable committed line', async () => {
    const path = freshPath();
    await commitItems(path, 0, [instr]);
    writeFileSync(path, `${JSON.stringify(instr)}\nnot json\n`);
    await expect(readTranscript(path, 2)).rejects.toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
    expect(await readTranscript(path, 1)).toEqual([instr]);
  });
});

describe('beginStep / endStep (a response already written is never paid for again)', () => {
  const usage = { inputTokens: 10, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 };

  it('a retried step that finds its output and step_end for the same input reuses them', async () => {
    const path = freshPath();
    const first = await beginStep(path, 0, [instr, u1], 'sha-1', 1);
    expect(first.written).toBeUndefined();
    const length = await endStep(path, { lines: first.history.length, bytes: first.bytes }, [c1], { type: 'step_end', input_sha256: 'sha-1', usage }, 1);
    expect(length).toBe(4);
    const retry = await beginStep(path, 0, [instr, u1], 'sha-1', 2);
    expect(retry.written).toEqual({ outputs: [c1], end: { type: 'step_end', input_sha256: 'sha-1', usage }, length: 4 });
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1, c1, { type: 'step_end', input_sha256: 'sha-1', usage }]));
  });

  it('a different input, a torn write or a missing step_end is not a written step: the tail is discarded', async () => {
    for (const tail of [
      `${JSON.stringify(c1)}\n{"type":"step_e`, // torn
      `${JSON.stringify(c1)}\n`, // no step_end yet
      `${JSON.stringify(c1)}\n${JSON.stringify({ type: 'step_end', input_sha256: 'other', usage })}\n`, // another input
    ]) {
      const path = freshPath();
      await beginStep(path, 0, [instr, u1], 'sha-1', 1);
      appendFileSync(path, tail);
      const retry = await beginStep(path, 0, [instr, u1], 'sha-1', 2);
      expect(retry.written).toBeUndefined();
      expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1]));
    }
  });

  it('a superseded attempt cannot append its step after a newer attempt began', async () => {
    const path = freshPath();
    const old = await beginStep(path, 0, [instr, u1], 'sha-1', 1);
    await beginStep(path, 0, [instr, u1], 'sha-1', 2);
    await expect(
      endStep(path, { lines: old.history.length, bytes: old.bytes }, [a1], { type: 'step_end', input_sha256: 'sha-1', usage }, 1),
    ).rejects.toMatchObject({ type: 'SupersededAttempt' });
    expect(readFileSync(path, 'utf8')).toBe(lines([instr, u1]));
  });
});
