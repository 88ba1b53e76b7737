import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INTERRUPTED_OUTPUT, type JournalOptions, journaled as journaledWith, journalPath, readJournalOutput } from '../../src/activities/tools/journal';
import { runNodeChild } from './support/nodeChild';

let home: string;
let n = 0;
const fresh = () => journalPath(home, 'run-1', `step-${++n}:call_${n}`);
const call = { name: 'shell', arguments: '{"command":["touch","x"]}' };
/** One attempt's token unless a test races attempts. */
const journaled = (path: string, c: typeof call, run: () => Promise<string>, options: JournalOptions = {}) =>
  journaledWith(path, c, run, { token: 1, ...options });
const entryOf = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const writeStarted = (path: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ state: 'started', name: 'shell', arguments: call.arguments, startedAt: new Date().toISOString() }));
};

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected an ApplicationFailure').toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'infty-journal-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('journalPath', () => {
  it('lives under journal/<run_id>/ and makes the key file-name safe', () => {
    expect(journalPath('/h', 'r', 'abc:1/2')).toBe(join('/h', 'journal', 'r', 'abc_1_2.json'));
  });
});

describe('journaled', () => {
  it('the first call runs the tool and records the output', async () => {
    const path = fresh();
    const run = vi.fn(async () => 'created x');
    expect(await journaled(path, call, run)).toEqual({ output: 'created x', replayed: false, interrupted: false });
    expect(run).toHaveBeenCalledTimes(1);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    expect(entry).toMatchObject({ state: 'completed', name: 'shell', arguments: call.arguments, output: 'created x' });
  });

  it('a second call returns the recorded output without running the tool', async () => {
    const path = fresh();
    const run = vi.fn(async () => `output ${Math.random()}`);
    const first = await journaled(path, call, run);
    const second = await journaled(path, call, run);
    expect(run).toHaveBeenCalledTimes(1);
    expect(second).toEqual({ output: first.output, replayed: true, interrupted: false });
  });

  it('the entry is "started" while the tool runs', async () => {
    const path = fresh();
    let seen: unknown;
    await journaled(path, call, async () => {
      seen = JSON.parse(readFileSync(path, 'utf8'));
      return 'ok';
    });
    expect(seen).toMatchObject({ state: 'started', name: 'shell' });
  });

  it('a started-only entry (crash mid-call) yields the interrupted output without running, and is then stable', async () => {
    const path = fresh();
    writeStarted(path);
    const run = vi.fn(async () => 'should not run');
    expect(await journaled(path, call, run)).toEqual({ output: INTERRUPTED_OUTPUT, replayed: false, interrupted: true });
    expect(run).not.toHaveBeenCalled();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ state: 'completed', output: INTERRUPTED_OUTPUT });
    // A further retry replays the same interrupted output, still without running.
    expect(await journaled(path, call, run)).toEqual({ output: INTERRUPTED_OUTPUT, replayed: true, interrupted: false });
    expect(run).not.toHaveBeenCalled();
  });

  it('the interrupted output tells the model the call was not re-run and may be partial', () => {
    expect(INTERRUPTED_OUTPUT).toMatch(/interrupted/);
    expect(INTERRUPTED_OUTPUT).toMatch(/partial/);
    expect(INTERRUPTED_OUTPUT).toMatch(/not re-run/);
  });

  it('a torn (unparsable) journal file means nothing ran yet: the tool runs', async () => {
    const path = fresh();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{"state":"sta');
    const run = vi.fn(async () => 'ran');
    expect(await journaled(path, call, run)).toEqual({ output: 'ran', replayed: false, interrupted: false });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('an empty recorded output replays as an empty string', async () => {
    const path = fresh();
    await journaled(path, call, async () => '');
    expect(await journaled(path, call, async () => 'x')).toEqual({ output: '', replayed: true, interrupted: false });
  });

  it('different keys are independent', async () => {
    const a = fresh();
    const b = fresh();
    await journaled(a, call, async () => 'A');
    expect((await journaled(b, call, async () => 'B')).output).toBe('B');
    expect(existsSync(a) && existsSync(b)).toBe(true);
  });

  it('a tool that fails inside the worker (not a crash) is recorded with its error and not re-run', async () => {
    const path = fresh();
    const first = await journaled(path, call, async () => {
      throw new Error('internal failure');
    });
    expect(first).toEqual({ output: 'Error: the tool failed inside the worker: internal failure', replayed: false, interrupted: false });
    const run = vi.fn(async () => 'second run');
    expect(await journaled(path, call, run)).toEqual({ output: first.output, replayed: true, interrupted: false });
    expect(run).not.toHaveBeenCalled();
  });

  it('leaves no temp files behind', async () => {
    const path = fresh();
    await journaled(path, call, async () => 'ok');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dirname(path)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('journaled: idempotent tools', () => {
  it('a started-only entry re-runs an idempotent tool instead of reporting it interrupted', async () => {
    const path = fresh();
    writeStarted(path);
    const run = vi.fn(async () => 'file contents');
    expect(await journaled(path, call, run, { idempotent: true })).toEqual({ output: 'file contents', replayed: false, interrupted: false });
    expect(run).toHaveBeenCalledTimes(1);
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: 'file contents' });
  });

  it('a completed entry of an idempotent tool is replayed, not re-run', async () => {
    const path = fresh();
    await journaled(path, call, async () => 'first', { idempotent: true });
    const run = vi.fn(async () => 'second');
    expect(await journaled(path, call, run, { idempotent: true })).toEqual({ output: 'first', replayed: true, interrupted: false });
    expect(run).not.toHaveBeenCalled();
  });
});

describe('journaled: fencing of racing attempts', () => {
  it("a superseded attempt's late completion is refused and leaves the successor's 'interrupted' entry", async () => {
    const path = fresh();
    let releaseOld!: () => void;
    let oldStarted!: () => void;
    const oldRunning = new Promise<void>((r) => (oldStarted = r));
    const old = journaledWith(
      path,
      call,
      async () => {
        oldStarted();
        await new Promise<void>((r) => (releaseOld = r));
        return 'old attempt output';
      },
      { token: 100 },
    );
    await oldRunning;
    // Temporal gave up on the old attempt (heartbeat timeout) and started a retry.
    const retry = vi.fn(async () => 'must not run');
    expect(await journaledWith(path, call, retry, { token: 200 })).toEqual({ output: INTERRUPTED_OUTPUT, replayed: false, interrupted: true });
    expect(retry).not.toHaveBeenCalled();
    releaseOld();
    expect((await failureOf(old)).type).toBe('SupersededAttempt');
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: INTERRUPTED_OUTPUT });
    expect(await readJournalOutput(path)).toBe(INTERRUPTED_OUTPUT);
  });

  it("an idempotent tool's superseded attempt cannot overwrite its successor's output", async () => {
    const path = fresh();
    let releaseOld!: () => void;
    let oldStarted!: () => void;
    const oldRunning = new Promise<void>((r) => (oldStarted = r));
    const old = journaledWith(
      path,
      call,
      async () => {
        oldStarted();
        await new Promise<void>((r) => (releaseOld = r));
        return 'stale contents';
      },
      { token: 100, idempotent: true },
    );
    await oldRunning;
    expect(await journaledWith(path, call, async () => 'fresh contents', { token: 200, idempotent: true })).toEqual({
      output: 'fresh contents',
      replayed: false,
      interrupted: false,
    });
    releaseOld();
    expect((await failureOf(old)).type).toBe('SupersededAttempt');
    expect(await readJournalOutput(path)).toBe('fresh contents');
  });

  it('an attempt older than the one that completed the call neither runs the tool nor touches the entry', async () => {
    const path = fresh();
    await journaledWith(path, call, async () => 'done by attempt 2', { token: 200 });
    const before = readFileSync(path, 'utf8');
    const run = vi.fn(async () => 'attempt 1 woke up');
    expect((await failureOf(journaledWith(path, call, run, { token: 100 }))).type).toBe('SupersededAttempt');
    expect(run).not.toHaveBeenCalled();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('readJournalOutput', () => {
  it("returns a completed entry's output", async () => {
    const path = fresh();
    await journaled(path, call, async () => 'the output');
    expect(await readJournalOutput(path)).toBe('the output');
  });

  it('a missing entry is a non-retryable JournalMissing naming the file', async () => {
    const path = fresh();
    const err = await failureOf(readJournalOutput(path));
    expect(err.type).toBe('JournalMissing');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/never recorded/);
  });

  it('a started-only entry is a non-retryable JournalMissing saying the call has not finished', async () => {
    const path = fresh();
    writeStarted(path);
    const err = await failureOf(readJournalOutput(path));
    expect(err.type).toBe('JournalMissing');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/"started", not "completed"/);
  });

  it('an unparsable entry is a non-retryable JournalMissing', async () => {
    const path = fresh();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{"state":"comp');
    const err = await failureOf(readJournalOutput(path));
    expect(err.type).toBe('JournalMissing');
    expect(err.nonRetryable).toBe(true);
  });
});

describe('journaled: crashes at the failpoints (a real process SIGKILLed)', () => {
  /** Runs one journaled shell-like call in a child that appends to `sideEffects` and crashes at `failpoint`. */
  async function crashAt(failpoint: string, path: string, sideEffects: string) {
    const exit = await runNodeChild(
      `require('./src/activities/tools/journal').journaled(${JSON.stringify(path)}, ${JSON.stringify(call)}, async () => {
         require('node:fs').appendFileSync(${JSON.stringify(sideEffects)}, 'ran\\n');
         return 'created x';
       }, { token: 100 }).then(() => console.log('finished'));`,
      { INFTY_FAILPOINTS: failpoint },
    );
    expect(exit.signal, exit.stderr).toBe('SIGKILL');
    expect(exit.stdout).not.toContain('finished');
  }

  it('killed after the side effect: the entry says started and the retry reports the call interrupted without re-running it', async () => {
    const path = fresh();
    const sideEffects = join(home, `effects-${n}.log`);
    await crashAt('tool.afterSideEffect', path, sideEffects);
    expect(entryOf(path)).toMatchObject({ state: 'started' });
    const retry = vi.fn(async () => 'ran again');
    expect(await journaledWith(path, call, retry, { token: 200 })).toEqual({ output: INTERRUPTED_OUTPUT, replayed: false, interrupted: true });
    expect(retry).not.toHaveBeenCalled();
    expect(readFileSync(sideEffects, 'utf8')).toBe('ran\n');
  });

  it('killed after the journal write: the retry replays the recorded output', async () => {
    const path = fresh();
    const sideEffects = join(home, `effects-${n}.log`);
    await crashAt('tool.afterJournal', path, sideEffects);
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: 'created x' });
    const retry = vi.fn(async () => 'ran again');
    expect(await journaledWith(path, call, retry, { token: 200 })).toEqual({ output: 'created x', replayed: true, interrupted: false });
    expect(retry).not.toHaveBeenCalled();
    expect(readFileSync(sideEffects, 'utf8')).toBe('ran\n');
  });
});
