import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INTERRUPTED_OUTPUT, type JournalOptions, journaled as journaledWith, journalPath, readJournalOutput } from '../../src/activities/tools/journal';
import { errorResult, type FinalToolOutput, finalizeToolOutput, shellResult, type ToolResult, textResult } from '../../src/activities/tools/output';
import { runNodeChild } from './support/nodeChild';

let home: string;
let n = 0;
const fresh = () => journalPath(home, 'run-1', `step-${++n}:call_${n}`);
const call = { name: 'shell', arguments: '{"command":["touch","x"]}' };
/** A tool's finalized text output. */
const text = (output: string): FinalToolOutput => finalizeToolOutput(textResult(output));
/** A call that ran now and output `output`, or one whose recorded `output` was replayed. */
const ran = (output: string) => ({ ...text(output), replayed: false, interrupted: false });
const replayed = (output: string) => ({ ...text(output), replayed: true, interrupted: false });
const INTERRUPTED = finalizeToolOutput(errorResult(INTERRUPTED_OUTPUT, 'interrupted'));
/** One attempt's token unless a test races attempts; `run` returns the tool's text. */
const journaled = (path: string, c: typeof call, run: () => Promise<string>, options: JournalOptions = {}) =>
  journaledWith(path, c, async () => text(await run()), { token: 1, ...options });
const journaledText = (path: string, c: typeof call, run: () => Promise<string>, options: JournalOptions) =>
  journaledWith(path, c, async () => text(await run()), options);
const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
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
    expect(await journaled(path, call, run)).toEqual(ran('created x'));
    expect(run).toHaveBeenCalledTimes(1);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    expect(entry).toMatchObject({ state: 'completed', name: 'shell', arguments: call.arguments, output: 'created x' });
    expect(entry.digest).toEqual({ failed: false, fingerprint: sha12('created x') });
  });

  it("records the digest of the tool's result beside its output, and replays both", async () => {
    const path = fresh();
    const result = shellResult('Error: boom\n', { exit_code: 2, duration_seconds: 0.4 });
    const first = await journaledWith(path, call, async () => finalizeToolOutput(result), { token: 1 });
    expect(first.digest).toEqual({ failed: true, fingerprint: sha12('2\nError: boom\n') });
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: first.output, digest: first.digest });
    const run = vi.fn(async () => text('not run'));
    expect(await journaledWith(path, call, run, { token: 1 })).toEqual({ ...first, replayed: true });
    expect(run).not.toHaveBeenCalled();
  });

  it('a second call returns the recorded output without running the tool', async () => {
    const path = fresh();
    const run = vi.fn(async () => `output ${Math.random()}`);
    const first = await journaled(path, call, run);
    const second = await journaled(path, call, run);
    expect(run).toHaveBeenCalledTimes(1);
    expect(second).toEqual(replayed(first.output));
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

  it('an idempotent call writes nothing before it completes: no started entry, no fence claimed', async () => {
    const path = fresh();
    let seen: string[] | undefined;
    await journaledText(
      path,
      call,
      async () => {
        seen = [existsSync(path) ? 'entry' : '', existsSync(`${path}.fence`) ? 'fence' : ''].filter(Boolean);
        return 'read';
      },
      { token: 7, idempotent: true },
    );
    expect(seen).toEqual([]);
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: 'read' });
    expect(readFileSync(`${path}.fence`, 'utf8')).toBe('7');
  });

  it('a started-only entry (crash mid-call) yields the interrupted output without running, and is then stable', async () => {
    const path = fresh();
    writeStarted(path);
    const run = vi.fn(async () => 'should not run');
    expect(await journaled(path, call, run)).toEqual({ ...INTERRUPTED, replayed: false, interrupted: true });
    expect(run).not.toHaveBeenCalled();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      state: 'completed',
      output: INTERRUPTED_OUTPUT,
      digest: { failed: false, fingerprint: sha12(INTERRUPTED_OUTPUT), toolError: 'interrupted' },
    });
    // A further retry replays the same interrupted output, still without running.
    expect(await journaled(path, call, run)).toEqual({ ...INTERRUPTED, replayed: true, interrupted: false });
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
    expect(await journaled(path, call, run)).toEqual(ran('ran'));
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('an empty recorded output replays as an empty string', async () => {
    const path = fresh();
    await journaled(path, call, async () => '');
    expect(await journaled(path, call, async () => 'x')).toEqual(replayed(''));
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
    expect(first).toEqual({
      output: 'Error: the tool failed inside the worker: internal failure',
      digest: { failed: true, fingerprint: sha12(first.output), toolError: 'internal' },
      replayed: false,
      interrupted: false,
    });
    const run = vi.fn(async () => 'second run');
    expect(await journaled(path, call, run)).toEqual({ ...first, replayed: true });
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
    expect(await journaled(path, call, run, { idempotent: true })).toEqual(ran('file contents'));
    expect(run).toHaveBeenCalledTimes(1);
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: 'file contents' });
  });

  it('a completed entry of an idempotent tool is replayed, not re-run', async () => {
    const path = fresh();
    await journaled(path, call, async () => 'first', { idempotent: true });
    const run = vi.fn(async () => 'second');
    expect(await journaled(path, call, run, { idempotent: true })).toEqual(replayed('first'));
    expect(run).not.toHaveBeenCalled();
  });
});

describe('journaled: fencing of racing attempts', () => {
  it("a superseded attempt's late completion is refused and leaves the successor's 'interrupted' entry", async () => {
    const path = fresh();
    let releaseOld!: () => void;
    let oldStarted!: () => void;
    const oldRunning = new Promise<void>((r) => (oldStarted = r));
    const old = journaledText(
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
    expect(await journaledText(path, call, retry, { token: 200 })).toEqual({ ...INTERRUPTED, replayed: false, interrupted: true });
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
    const old = journaledText(
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
    expect(await journaledText(path, call, async () => 'fresh contents', { token: 200, idempotent: true })).toEqual(ran('fresh contents'));
    releaseOld();
    expect((await failureOf(old)).type).toBe('SupersededAttempt');
    expect(await readJournalOutput(path)).toBe('fresh contents');
  });

  it('an attempt older than the one that completed the call neither runs the tool nor touches the entry', async () => {
    const path = fresh();
    await journaledText(path, call, async () => 'done by attempt 2', { token: 200 });
    const before = readFileSync(path, 'utf8');
    const run = vi.fn(async () => 'attempt 1 woke up');
    expect((await failureOf(journaledText(path, call, run, { token: 100 }))).type).toBe('SupersededAttempt');
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

describe('journaled: a completed entry written by a worker from before digests were journaled', () => {
  /** The entry as such a worker wrote it: the output text, no digest. */
  const writeLegacyCompleted = (path: string, output: string) => {
    mkdirSync(dirname(path), { recursive: true });
    const at = new Date().toISOString();
    writeFileSync(path, JSON.stringify({ state: 'completed', name: call.name, arguments: call.arguments, startedAt: at, completedAt: at, output }));
  };
  /** Replays the legacy entry of `output`; the tool must not run. */
  async function replayLegacy(output: string) {
    const path = fresh();
    writeLegacyCompleted(path, output);
    const run = vi.fn(async () => text('must not run'));
    const replay = await journaledWith(path, call, run, { token: 1 });
    expect(run).not.toHaveBeenCalled();
    expect(replay).toMatchObject({ output, replayed: true, interrupted: false });
    return replay.digest;
  }
  /** The digest a worker of today records for the same result. */
  const digestNow = (result: ToolResult) => finalizeToolOutput(result).digest;

  it('a shell result: the digest read back from its JSON, as a new entry would record it', async () => {
    const failing = shellResult('tests failed\n', { exit_code: 1, duration_seconds: 2.5 });
    const passing = shellResult('ok\n', { exit_code: 0, duration_seconds: 0.1 });
    expect(await replayLegacy(finalizeToolOutput(failing).output)).toEqual({ failed: true, fingerprint: sha12('1\ntests failed\n') });
    expect(await replayLegacy(finalizeToolOutput(failing).output)).toEqual(digestNow(failing));
    expect(await replayLegacy(finalizeToolOutput(passing).output)).toEqual(digestNow(passing));
  });

  it('an error, an internal failure, an interrupted call and a text: as a new entry would record them', async () => {
    const missing = errorResult('file not found: a.txt');
    expect(await replayLegacy('Error: file not found: a.txt')).toEqual({
      failed: true,
      fingerprint: sha12('Error: file not found: a.txt'),
      toolError: 'error_output',
    });
    expect(await replayLegacy('Error: file not found: a.txt')).toEqual(digestNow(missing));
    const internal = errorResult('the tool failed inside the worker: EIO', 'internal');
    expect(await replayLegacy('Error: the tool failed inside the worker: EIO')).toEqual(digestNow(internal));
    expect(await replayLegacy(INTERRUPTED_OUTPUT)).toEqual({ failed: false, fingerprint: sha12(INTERRUPTED_OUTPUT), toolError: 'interrupted' });
    expect(await replayLegacy('L1: hello')).toEqual({ failed: false, fingerprint: sha12('L1: hello') });
  });
});

describe('journaled: crashes at the failpoints (a real process SIGKILLed)', () => {
  /** Runs one journaled shell-like call in a child that appends to `sideEffects` and crashes at `failpoint`. */
  async function crashAt(failpoint: string, path: string, sideEffects: string) {
    const exit = await runNodeChild(
      `require('./src/activities/tools/journal').journaled(${JSON.stringify(path)}, ${JSON.stringify(call)}, async () => {
         require('node:fs').appendFileSync(${JSON.stringify(sideEffects)}, 'ran\\n');
         return require('./src/activities/tools/output').finalizeToolOutput({ type: 'text', text: 'created x' });
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
    expect(await journaledText(path, call, retry, { token: 200 })).toEqual({ ...INTERRUPTED, replayed: false, interrupted: true });
    expect(retry).not.toHaveBeenCalled();
    expect(readFileSync(sideEffects, 'utf8')).toBe('ran\n');
  });

  it('killed after the journal write: the retry replays the recorded output', async () => {
    const path = fresh();
    const sideEffects = join(home, `effects-${n}.log`);
    await crashAt('tool.afterJournal', path, sideEffects);
    expect(entryOf(path)).toMatchObject({ state: 'completed', output: 'created x' });
    const retry = vi.fn(async () => 'ran again');
    expect(await journaledText(path, call, retry, { token: 200 })).toEqual(replayed('created x'));
    expect(retry).not.toHaveBeenCalled();
    expect(readFileSync(sideEffects, 'utf8')).toBe('ran\n');
  });
});
