import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptToken, fencePath, isSupersededAttempt, LOCK_STALE_MS, withFence } from '../../src/activities/durable/fence';
import { sleep } from '../support/wait';
import { startNodeChild } from './support/nodeChild';

let dir: string;
let n = 0;
const fresh = () => join(dir, `resource-${++n}.jsonl`);
const write = (path: string, text: string) => async () => writeFileSync(path, text);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infty-fence-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the write was not refused').toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('attemptToken', () => {
  it("is the activity attempt's server-assigned schedule time", async () => {
    const env = new MockActivityEnvironment({ currentAttemptScheduledTimestampMs: 1_700_000_000_123 });
    expect(await env.run(async () => attemptToken())).toBe(1_700_000_000_123);
  });

  it('takes an explicit token outside an activity, and refuses to guess without one', () => {
    expect(attemptToken(42)).toBe(42);
    expect(() => attemptToken()).toThrow(/outside an activity/);
  });
});

describe('withFence', () => {
  it('refuses an older token after a newer one wrote, leaving the file as the newer wrote it', async () => {
    const path = fresh();
    await withFence(path, 100, write(path, 'old attempt\n'));
    await withFence(path, 200, write(path, 'new attempt\n'));
    const err = await refusal(withFence(path, 100, write(path, 'old attempt, late\n')));
    expect(err.type).toBe('SupersededAttempt');
    expect(err.message).toMatch(/newer activity attempt owns/);
    expect(err.message).toContain(path);
    expect(isSupersededAttempt(err)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('new attempt\n');
    expect(readFileSync(fencePath(path), 'utf8')).toBe('200');
  });

  it('lets the same attempt write again (equal token) and a later one take over', async () => {
    const path = fresh();
    await withFence(path, 100, write(path, 'a'));
    await withFence(path, 100, write(path, 'b'));
    await withFence(path, 101, write(path, 'c'));
    expect(readFileSync(path, 'utf8')).toBe('c');
  });

  it('an older attempt that started its write first finishes it alone; its next write is refused', async () => {
    const path = fresh();
    const log: string[] = [];
    let entered!: () => void;
    const oldInside = new Promise<void>((r) => (entered = r));
    const old = withFence(path, 100, async () => {
      log.push('old: start');
      entered();
      writeFileSync(path, 'old, part 1\n');
      await sleep(400);
      writeFileSync(path, 'old, part 1\nold, part 2\n');
      log.push('old: end');
    });
    await oldInside;
    const newer = withFence(path, 200, async () => {
      log.push('new: write');
      writeFileSync(path, 'new\n');
    });
    await Promise.all([old, newer]);
    expect(log).toEqual(['old: start', 'old: end', 'new: write']);
    expect((await refusal(withFence(path, 100, write(path, 'old, part 3\n')))).type).toBe('SupersededAttempt');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
  });

  it('a refused write does not run its function', async () => {
    const path = fresh();
    await withFence(path, 200, write(path, 'new'));
    let ran = false;
    await refusal(
      withFence(path, 199, async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
  });

  it('excludes another process: a write waits for the holder in another process to finish', async () => {
    const path = fresh();
    const child = startNodeChild(
      `require('./src/activities/durable/fence').withFence(${JSON.stringify(path)}, 100, async () => {
         require('node:fs').writeFileSync(${JSON.stringify(path)}, 'child, part 1\\n');
         console.log('locked');
         await new Promise((r) => setTimeout(r, 1000));
         require('node:fs').appendFileSync(${JSON.stringify(path)}, 'child, part 2\\n');
       }).then(() => console.log('done'));`,
    );
    await child.printed('locked');
    let seen = '';
    await withFence(path, 200, async () => {
      seen = readFileSync(path, 'utf8');
      writeFileSync(path, 'parent\n');
    });
    expect(seen).toBe('child, part 1\nchild, part 2\n');
    expect((await child.exited).stdout).toContain('done');
    expect(readFileSync(path, 'utf8')).toBe('parent\n');
  });

  it('refuses an older attempt here while a newer one holds the lock in another process, after its whole write', async () => {
    const path = fresh();
    const child = startNodeChild(
      `require('./src/activities/durable/fence').withFence(${JSON.stringify(path)}, 200, async () => {
         require('node:fs').writeFileSync(${JSON.stringify(path)}, 'child, part 1\\n');
         console.log('locked');
         await new Promise((r) => setTimeout(r, 1000));
         require('node:fs').appendFileSync(${JSON.stringify(path)}, 'child, part 2\\n');
       }).then(() => console.log('done'));`,
    );
    await child.printed('locked');
    const err = await refusal(withFence(path, 100, write(path, 'parent\n')));
    expect(err.type).toBe('SupersededAttempt');
    expect((await child.exited).stdout).toContain('done');
    expect(readFileSync(path, 'utf8')).toBe('child, part 1\nchild, part 2\n');
  });

  it('a lock left by a SIGKILLed holder is taken over once stale, instead of blocking forever', async () => {
    const path = fresh();
    const child = startNodeChild(
      `require('./src/activities/durable/fence').withFence(${JSON.stringify(path)}, 100, async () => {
         require('node:fs').writeFileSync(${JSON.stringify(path)}, 'torn by a crash');
         console.log('locked');
         process.kill(process.pid, 'SIGKILL');
       });`,
    );
    await child.printed('locked').catch(() => undefined);
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(existsSync(`${path}.lock`)).toBe(true); // the dead holder's lock is still there

    const start = Date.now();
    await withFence(path, 200, write(path, 'retry\n'));
    const waited = Date.now() - start;
    expect(readFileSync(path, 'utf8')).toBe('retry\n');
    expect(waited).toBeLessThan(LOCK_STALE_MS + 5_000);
    expect(existsSync(`${path}.lock`)).toBe(false);
    // The dead attempt's token was recorded before it wrote: an attempt older than it is still refused.
    expect((await refusal(withFence(path, 99, write(path, 'older\n')))).type).toBe('SupersededAttempt');
  }, 40_000);

  it('releases the lock when the write fails, and passes the failure on', async () => {
    const path = fresh();
    await expect(
      withFence(path, 1, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(existsSync(`${path}.lock`)).toBe(false);
    await withFence(path, 1, write(path, 'ok'));
    expect(readFileSync(path, 'utf8')).toBe('ok');
  });

  it('creates the directory of a resource that does not exist yet', async () => {
    const path = join(dir, 'nested', 'deeper', 'entry.json');
    await withFence(path, 5, write(path, 'x'));
    expect(readFileSync(fencePath(path), 'utf8')).toBe('5');
  });
});
