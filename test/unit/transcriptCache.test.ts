/**
 * The transcript cache (docs/architecture.md decision 10): a step uses what this process last wrote
 * only while the file is exactly that; any other writer — another worker process, a crashed attempt's
 * tail, a person — is seen as without the cache, and the cache never changes a byte sent or written.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resetTranscriptCache, transcriptCache } from '../../src/activities/transcriptCache';
import { prefixLine } from '../../src/activities/transcriptPrefix';
import { beginStep, commitItems, endStep, readTranscript, transcriptPath, writeTranscript } from '../../src/activities/transcripts';
import type { StepEnd, TranscriptItem } from '../../src/protocol/items';
import { runNodeChild } from './support/nodeChild';

let home: string;
let n = 0;
const freshPath = (role = 'solver', generation = 0) => transcriptPath(home, `run-${++n}`, role, generation);

const usage = { inputTokens: 10, cachedInputTokens: 0, outputTokens: 2, reasoningTokens: 0 };
const user = (text: string): TranscriptItem => ({ type: 'message', role: 'user', text });
const assistant = (text: string): TranscriptItem => ({ type: 'message', role: 'assistant', text });
const end = (sha: string): StepEnd => ({ type: 'step_end', input_sha256: sha, usage });
const lines = (items: TranscriptItem[]) => items.map((i) => `${JSON.stringify(i)}\n`).join('');

/** One whole model step: the user's text in, `reply` out; returns the new committed length and what beginStep returned. */
async function step(path: string, committed: number, text: string, reply: string, token = 1) {
  const begun = await beginStep(path, committed, [user(text)], `sha-${text}`, token);
  const length =
    begun.written?.length ?? (await endStep(path, { lines: begun.history.length, bytes: begun.bytes }, [assistant(reply)], end(`sha-${text}`), token));
  return { begun, length };
}

/** A few steps from an empty transcript; returns the committed length. */
async function steps(path: string, count: number): Promise<number> {
  let length = 0;
  for (let i = 0; i < count; i++) length = (await step(path, length, `q${i}`, `a${i}`)).length;
  return length;
}

/** Waits until a write now gets a later mtime than `path` has, as any edit made after a step does on a coarse-timestamp file system. */
async function afterTimestampTick(path: string): Promise<void> {
  const mine = statSync(path, { bigint: true }).mtimeNs;
  const probe = join(dirname(path), 'probe');
  for (;;) {
    writeFileSync(probe, 'x');
    if (statSync(probe, { bigint: true }).mtimeNs > mine) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'infty-tcache-'));
});
afterEach(() => {
  resetTranscriptCache();
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a step after this process wrote the transcript', () => {
  it('uses the cache: no read, and the history is the file', async () => {
    const cache = resetTranscriptCache();
    const path = freshPath();
    const length = await steps(path, 5);
    const misses = cache.misses;
    const { begun } = await step(path, length, 'q5', 'a5');
    expect(cache.misses).toBe(misses);
    expect(cache.hits).toBeGreaterThan(0);
    expect(begun.history).toEqual([...(await readTranscript(path, length)), user('q5')]);
    expect(Object.isFrozen(begun.history[0])).toBe(true);
  });
});

describe('another writer between two steps: the next step sees the file', () => {
  it('another worker process (its own cache) took two steps: this one continues from them', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    expect(transcriptCache().has(path)).toBe(true);
    const exit = await runNodeChild(
      `const t = require('./src/activities/transcripts');
       const end = (s) => ({ type: 'step_end', input_sha256: s, usage: ${JSON.stringify(usage)} });
       (async () => {
         let length = ${length};
         for (const q of ['elsewhere-1', 'elsewhere-2']) {
           const b = await t.beginStep(${JSON.stringify(path)}, length, [{ type: 'message', role: 'user', text: q }], 'sha-' + q, 2);
           length = await t.endStep(${JSON.stringify(path)}, { lines: b.history.length, bytes: b.bytes }, [{ type: 'message', role: 'assistant', text: 'r' }], end('sha-' + q), 2);
         }
         console.log(length);
       })();`,
    );
    expect(exit.code, exit.stderr).toBe(0);
    const theirs = Number(exit.stdout.trim());
    expect(theirs).toBe(length + 6);
    const misses = transcriptCache().misses;
    const { begun } = await step(path, theirs, 'q-after', 'a', 3);
    expect(transcriptCache().misses).toBe(misses + 1);
    expect(begun.history.slice(length).map((i) => (i.type === 'message' ? i.text : i.type))).toEqual([
      'elsewhere-1',
      'r',
      'step_end',
      'elsewhere-2',
      'r',
      'step_end',
      'q-after',
    ]);
    expect(begun.history).toEqual(await readTranscript(path, theirs + 1));
  });

  it('truncated below the committed length by another process: TranscriptCorrupt, exactly as without the cache', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    const twoLines = Buffer.byteLength(readFileSync(path, 'utf8').split('\n').slice(0, 2).join('\n')) + 1;
    const exit = await runNodeChild(`require('node:fs').truncateSync(${JSON.stringify(path)}, ${twoLines});`);
    expect(exit.code, exit.stderr).toBe(0);
    const err = await beginStep(path, length, [user('next')], 'sha', 2).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
    expect((err as Error).message).toContain(`has 2 lines but the workflow committed ${length}`);
    expect(readFileSync(path).length).toBe(twoLines);
  });

  it('rewritten in place with the same size but another content: the step sends the new content', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    await afterTimestampTick(path);
    const before = statSync(path, { bigint: true });
    writeFileSync(path, readFileSync(path, 'utf8').replace('"a1"', '"b1"'));
    const after = statSync(path, { bigint: true });
    expect([after.size, after.ino]).toEqual([before.size, before.ino]);
    const { begun } = await step(path, length, 'q3', 'a3', 2);
    expect(begun.history).toContainEqual(assistant('b1'));
    expect(begun.history).not.toContainEqual(assistant('a1'));
  });

  it('replaced by another file of the same size (a new inode, as an atomic rewrite makes): the step sends the new content', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    const tmp = `${path}.other`;
    writeFileSync(tmp, readFileSync(path, 'utf8').replace('"q2"', '"z2"'));
    renameSync(tmp, path);
    const { begun } = await step(path, length, 'q3', 'a3', 2);
    expect(begun.history).toContainEqual(user('z2'));
    expect(begun.history).not.toContainEqual(user('q2'));
  });

  it('replaced by a copy keeping size and mtime (cp -p, rsync): the new inode shows it', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    const { mtimeNs } = statSync(path, { bigint: true });
    const tmp = `${path}.other`;
    writeFileSync(tmp, readFileSync(path, 'utf8').replace('"q2"', '"z2"'));
    renameSync(tmp, path);
    const touch = await runNodeChild(
      `require('node:child_process').execFileSync('touch', ['-m', '-d', '@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}', ${JSON.stringify(path)}]);`,
    );
    expect(touch.code, touch.stderr).toBe(0);
    expect(statSync(path, { bigint: true }).mtimeNs).toBe(mtimeNs);
    const { begun } = await step(path, length, 'q3', 'a3', 2);
    expect(begun.history).toContainEqual(user('z2'));
  });

  it('its last newline cut: the step appends onto that line and the next finds the transcript corrupt, as without the cache', async () => {
    const path = freshPath();
    const length = await steps(path, 2);
    truncateSync(path, statSync(path).size - 1);
    const { length: after } = await step(path, length, 'q2', 'a2', 2);
    await expect(beginStep(path, after, [user('q3')], 'sha-q3', 2)).rejects.toMatchObject({ type: 'TranscriptCorrupt' });
  });

  it('deleted: TranscriptCorrupt', async () => {
    const path = freshPath();
    const length = await steps(path, 2);
    rmSync(path);
    await expect(beginStep(path, length, [user('next')], 'sha', 2)).rejects.toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
  });

  it('appended to during the model step: endStep refuses (TranscriptRace) and the retry cuts the foreign lines', async () => {
    const path = freshPath();
    const length = await steps(path, 2);
    const begun = await beginStep(path, length, [user('q2')], 'sha-q2', 2);
    appendFileSync(path, lines([assistant('foreign')]));
    await expect(endStep(path, { lines: begun.history.length, bytes: begun.bytes }, [assistant('a2')], end('sha-q2'), 2)).rejects.toMatchObject({
      type: 'TranscriptRace',
    });
    const retry = await step(path, length, 'q2', 'a2', 3);
    expect(retry.begun.written).toBeUndefined();
    expect(await readTranscript(path)).toEqual([...(await readTranscript(path, length)), user('q2'), assistant('a2'), end('sha-q2')]);
  });
});

describe('a crashed attempt left lines after the committed length', () => {
  it('a torn tail is cut exactly as before, and the step after uses the cache again', async () => {
    const path = freshPath();
    const length = await steps(path, 3);
    const committedText = readFileSync(path, 'utf8');
    appendFileSync(path, `${lines([user('q3'), assistant('half')])}{"type":"step_e`);
    const cache = transcriptCache();
    const misses = cache.misses;
    const { begun, length: after } = await step(path, length, 'q3', 'a3', 2);
    expect(begun.written).toBeUndefined();
    expect(cache.misses).toBe(misses + 1);
    expect(readFileSync(path, 'utf8')).toBe(committedText + lines([user('q3'), assistant('a3'), end('sha-q3')]));
    await step(path, after, 'q4', 'a4', 2);
    expect(cache.misses).toBe(misses + 1);
  });

  it('a whole step written by the crashed attempt is reused, not paid for again', async () => {
    const path = freshPath();
    const length = await steps(path, 2);
    appendFileSync(path, `${lines([user('q2'), assistant('paid'), end('sha-q2')])}${JSON.stringify(user('torn'))}`);
    const retry = await beginStep(path, length, [user('q2')], 'sha-q2', 2);
    expect(retry.written).toEqual({ outputs: [assistant('paid')], end: end('sha-q2'), length: length + 3 });
    const { begun } = await step(path, length + 3, 'q3', 'a3', 2);
    expect(begun.history.slice(length)).toEqual([user('q2'), assistant('paid'), end('sha-q2'), user('q3')]);
  });
});

describe("a fork's transcript (a shared prefix line)", () => {
  async function fork(): Promise<{ source: string; forked: string; shared: number }> {
    const source = freshPath();
    const shared = await steps(source, 3);
    const forked = freshPath();
    mkdirSync(dirname(forked), { recursive: true });
    const sourceRun = source.split('/').at(-2)!;
    writeFileSync(forked, `${prefixLine({ run: sourceRun, role: 'solver', generation: 0, lines: shared })}\n`);
    return { source, forked, shared };
  }

  it('steps on the fork see the shared lines; the source running on changes nothing; cached steps hit', async () => {
    const { source, forked, shared } = await fork();
    let length = (await step(forked, shared, 'f0', 'b0')).length;
    await step(source, shared, 'source-goes-on', 'x');
    const cache = transcriptCache();
    const misses = cache.misses;
    const { begun, length: after } = await step(forked, length, 'f1', 'b1');
    expect(cache.misses).toBe(misses + 1); // the source changed: read again
    expect(begun.history).toEqual([...(await readTranscript(source, shared)), user('f0'), assistant('b0'), end('sha-f0'), user('f1')]);
    length = (await step(forked, after, 'f2', 'b2')).length;
    expect(cache.misses).toBe(misses + 1);
    expect(readFileSync(forked, 'utf8').split('\n')[0]).toContain('"type":"prefix"');
    expect(await readTranscript(forked)).toHaveLength(length);
  });

  it('the source rewritten (same size, new inode) or deleted: the fork sees it as without the cache', async () => {
    const { source, forked, shared } = await fork();
    const length = (await step(forked, shared, 'f0', 'b0')).length;
    const tmp = `${source}.other`;
    writeFileSync(tmp, readFileSync(source, 'utf8').replace('"q1"', '"z1"'));
    renameSync(tmp, source);
    const { begun, length: after } = await step(forked, length, 'f1', 'b1');
    expect(begun.history).toContainEqual(user('z1'));
    rmSync(source);
    await expect(beginStep(forked, after, [user('f2')], 'sha-f2', 1)).rejects.toMatchObject({ type: 'TranscriptCorrupt', nonRetryable: true });
  });
});

describe('the bound', () => {
  it('many transcripts past the cap: the oldest are evicted and the held text stays within it', async () => {
    const cache = resetTranscriptCache(20_000);
    const paths: string[] = [];
    for (let i = 0; i < 40; i++) {
      const path = freshPath();
      await commitItems(path, 0, [user(`${i}:${'x'.repeat(900)}`)], 1);
      paths.push(path);
      expect(cache.bytes).toBeLessThanOrEqual(20_000);
    }
    const held = paths.filter((p) => cache.has(p));
    expect(held.length).toBeGreaterThan(10);
    expect(held.length).toBeLessThan(40);
    expect(held).toEqual(paths.slice(paths.length - held.length)); // the most recent ones
    // Each entry is charged its text, which for these transcripts is their file.
    expect(cache.bytes).toBe(held.reduce((sum, p) => sum + statSync(p).size, 0));
  });

  it('a transcript larger than the cap is not kept', async () => {
    const cache = resetTranscriptCache(1_000);
    const path = freshPath();
    await commitItems(path, 0, [user('y'.repeat(2_000))], 1);
    expect(cache.has(path)).toBe(false);
    expect(cache.bytes).toBe(0);
    await commitItems(path, 1, [user('z')], 1);
    expect(await readTranscript(path)).toEqual([user('y'.repeat(2_000)), user('z')]);
  });

  it("a new generation (compaction) evicts the run's older entries, not other runs'", async () => {
    const cache = resetTranscriptCache();
    const gen0 = freshPath();
    await steps(gen0, 2);
    const director = join(dirname(gen0), 'director.jsonl');
    await steps(director, 1);
    const other = freshPath();
    await steps(other, 1);
    const gen1 = join(dirname(gen0), 'solver.1.jsonl');
    await writeTranscript(gen1, [user('summary')], 2);
    expect([cache.has(gen0), cache.has(director), cache.has(other), cache.has(gen1)]).toEqual([false, false, true, true]);
    const misses = cache.misses;
    const { begun } = await step(gen1, 1, 'after', 'a', 2);
    expect(cache.misses).toBe(misses);
    expect(begun.history).toEqual([user('summary'), user('after')]);
  });
});

describe('equivalence', () => {
  /** Everything a sequence of steps returns, and every transcript byte it leaves, under `root`. */
  async function run(root: string): Promise<{ results: unknown[]; files: Record<string, string> }> {
    const results: unknown[] = [];
    const note = async (p: Promise<unknown>) => results.push(await p.catch((e: Error) => ({ error: e.message.replaceAll(root, '<home>') })));
    const a = transcriptPath(root, 'r1', 'solver', 0);
    await note(commitItems(a, 0, [{ type: 'instructions', text: 'be helpful' }, user('objective')], 1));
    let length = 2;
    for (let i = 0; i < 25; i++) {
      const begun = await beginStep(a, length, [user(`q${i}`)], `sha-${i}`, 1);
      results.push(begun);
      const call: TranscriptItem = { type: 'function_call', callId: `c${i}`, name: 'shell', arguments: `{"i":${i}}` };
      length = await endStep(a, { lines: begun.history.length, bytes: begun.bytes }, [call], end(`sha-${i}`), 1);
      results.push(length);
      results.push(await commitItems(a, length, [{ type: 'function_call_output', callId: `c${i}`, output: `out ${i}\n✓` }], 1));
      length++;
      if (i % 7 === 3) appendFileSync(a, `${lines([user('crashed')])}{"torn`);
      if (i % 11 === 5) await note(beginStep(a, length, [user(`q${i + 1}`)], `sha-${i + 1}`, 1)); // a begun step abandoned
    }
    await note(beginStep(a, length + 5, [user('too far')], 'sha-x', 1));
    const gen1 = transcriptPath(root, 'r1', 'solver', 1);
    await writeTranscript(gen1, [{ type: 'instructions', text: 'be helpful' }, user('summary')], 2);
    let g1 = 2;
    for (let i = 0; i < 5; i++) {
      const s = await step(gen1, g1, `g${i}`, `h${i}`, 2);
      results.push(s.begun);
      g1 = s.length;
    }
    const forked = transcriptPath(root, 'r2', 'solver', 1);
    mkdirSync(dirname(forked), { recursive: true });
    writeFileSync(forked, `${prefixLine({ run: 'r1', role: 'solver', generation: 1, lines: g1 })}\n`);
    let f = g1;
    for (let i = 0; i < 5; i++) {
      const s = await step(forked, f, `f${i}`, `k${i}`, 1);
      results.push(s.begun);
      f = s.length;
      if (i === 2) await step(gen1, g1, 'source-on', 'x', 2);
    }
    const retried = await step(forked, f - 3, 'f4', 'k4', 1);
    results.push(retried.begun);
    await note(commitItems(forked, 1, [user('inside the prefix')], 1));
    const files: Record<string, string> = {};
    for (const run of ['r1', 'r2']) {
      const dir = join(root, 'transcripts', run);
      for (const file of readdirSync(dir).filter((x) => x.endsWith('.jsonl'))) files[`${run}/${file}`] = readFileSync(join(dir, file), 'utf8');
    }
    return { results, files };
  }

  it('the same steps send the same histories and leave the same bytes with the cache and without it', async () => {
    const cached = resetTranscriptCache();
    const withCache = await run(join(home, 'with'));
    expect(cached.hits).toBeGreaterThan(40);
    resetTranscriptCache(0);
    const without = await run(join(home, 'without'));
    expect(JSON.stringify(withCache.results)).toBe(JSON.stringify(without.results));
    expect(withCache.files).toEqual(without.files);
    expect(Object.keys(withCache.files)).toEqual(['r1/solver.1.jsonl', 'r1/solver.jsonl', 'r2/solver.1.jsonl']);
    expect(withCache.results.filter((r) => typeof r === 'object' && r !== null && 'error' in r)).toHaveLength(2);
  });
});
