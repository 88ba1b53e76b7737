import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INTERRUPTED_OUTPUT, journaled, journalPath } from '../../src/activities/tools/journal';

let home: string;
let n = 0;
const fresh = () => journalPath(home, 'run-1', `step-${++n}:call_${n}`);
const call = { name: 'shell', arguments: '{"command":["touch","x"]}' };

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
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ state: 'started', name: 'shell', arguments: call.arguments, startedAt: new Date().toISOString() }));
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
