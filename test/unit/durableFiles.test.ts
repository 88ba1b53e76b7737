import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendDurable, writeFileDurable } from '../../src/activities/durable/files';
import { runNodeChild } from './support/nodeChild';

let dir: string;
let n = 0;
const freshDir = () => mkdtempSync(join(dir, `case-${++n}-`));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infty-durable-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileDurable', () => {
  it('creates a file, then replaces it whole, leaving no temporary file', async () => {
    const d = freshDir();
    const path = join(d, 'run.json');
    await writeFileDurable(path, '{"v":1}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"v":1}\n');
    await writeFileDurable(path, Buffer.from('{"v":2}\n'));
    expect(readFileSync(path, 'utf8')).toBe('{"v":2}\n');
    expect(readdirSync(d)).toEqual(['run.json']);
  });

  it('fails without leaving a temporary file when the rename cannot happen', async () => {
    const d = freshDir();
    const target = join(d, 'a-directory');
    mkdirSync(join(target, 'occupied'), { recursive: true });
    await expect(writeFileDurable(target, 'over a directory')).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['a-directory']);
  });

  /** Replaces `path` in a child process that is SIGKILLed at runStore.beforeRename when `crash`. */
  async function replaceInChild(path: string, content: string, crash: boolean) {
    return runNodeChild(
      `require('./src/activities/durable/files')
         .writeFileDurable(${JSON.stringify(path)}, ${JSON.stringify(content)}, { beforeRename: 'runStore.beforeRename' })
         .then(() => console.log('written'));`,
      crash ? { INFTY_FAILPOINTS: 'runStore.beforeRename' } : {},
    );
  }

  it('a process killed between the temp write and the rename leaves the old content intact', async () => {
    const d = freshDir();
    const path = join(d, 'run.json');
    const old = JSON.stringify({ status: 'running', roles: ['solver'] });
    const next = JSON.stringify({ status: 'delivered', roles: ['solver', 'director'], note: 'x'.repeat(100_000) });
    writeFileSync(path, old);
    const exit = await replaceInChild(path, next, true);
    expect(exit.signal, exit.stderr).toBe('SIGKILL');
    expect(exit.stderr).toMatch(/failpoint runStore.beforeRename/);
    expect(readFileSync(path, 'utf8')).toBe(old);
    // The complete new content sat in the temporary file, already fsynced, when the process died.
    const leftovers = readdirSync(d).filter((f) => f !== 'run.json');
    expect(leftovers).toHaveLength(1);
    expect(readFileSync(join(d, leftovers[0]!), 'utf8')).toBe(next);

    const retried = await replaceInChild(path, next, false);
    expect(retried.stdout).toContain('written');
    expect(readFileSync(path, 'utf8')).toBe(next);
  });

  it('without the failpoint enabled the same write completes', async () => {
    const d = freshDir();
    const path = join(d, 'run.json');
    writeFileSync(path, 'old');
    const exit = await replaceInChild(path, 'new', false);
    expect(exit.code, exit.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('new');
  });
});

describe('appendDurable', () => {
  it('creates the file on the first append and appends after that', async () => {
    const d = freshDir();
    const path = join(d, 'solver.jsonl');
    expect(existsSync(path)).toBe(false);
    await appendDurable(path, '{"a":1}\n');
    await appendDurable(path, Buffer.from('{"b":2}\n'));
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  });
});
