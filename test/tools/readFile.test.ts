import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { readFile as readFileResult } from '../../src/activities/tools/readFile';
import { errorMessage, wire } from './support/results';

/** The text the model sees of a read_file call. */
const readFile = (args: unknown, ctx: ToolContext) => wire(readFileResult(args, ctx));

describe('readFile', () => {
  let runDir: string;
  let ctx: ToolContext;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-read-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
    writeFileSync(path.join(runDir, 'ten.txt'), `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`);
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('numbers lines from 1', async () => {
    const out = await readFile({ path: 'ten.txt' }, ctx);
    expect(out.split('\n')).toHaveLength(10);
    expect(out.startsWith('L1: line 1\nL2: line 2\n')).toBe(true);
    expect(out.endsWith('L10: line 10')).toBe(true);
  });

  it('honours offset and limit', async () => {
    expect(await readFile({ path: 'ten.txt', offset: 4, limit: 3 }, ctx)).toBe('L4: line 4\nL5: line 5\nL6: line 6');
    expect(await readFile({ path: 'ten.txt', offset: 9 }, ctx)).toBe('L9: line 9\nL10: line 10');
    expect(await readFile({ path: path.join(runDir, 'ten.txt'), offset: 10, limit: 5 }, ctx)).toBe('L10: line 10');
    expect(await errorMessage(readFileResult({ path: 'ten.txt', offset: 11 }, ctx))).toMatch(/^offset 11 exceeds the file length \(10 lines\)/);
    expect(await errorMessage(readFileResult({ path: 'ten.txt', offset: 0 }, ctx))).toMatch(/^invalid arguments for read_file: offset/);
  });

  it('cuts long lines, strips CR and handles a missing final newline', async () => {
    writeFileSync(path.join(runDir, 'long.txt'), `${'x'.repeat(2000)}\r\nshort\r\nlast`);
    const out = (await readFile({ path: 'long.txt' }, ctx)).split('\n');
    expect(out).toEqual([`L1: ${'x'.repeat(500)}`, 'L2: short', 'L3: last']);
  });

  it('reports a missing file', async () => {
    expect(await readFileResult({ path: 'nope.txt' }, ctx)).toEqual({ type: 'error', kind: 'error_output', message: 'file not found: nope.txt' });
    expect(await readFile({ path: 'nope.txt' }, ctx)).toBe('Error: file not found: nope.txt');
  });

  it('refuses a directory', async () => {
    mkdirSync(path.join(runDir, 'd'));
    expect(await errorMessage(readFileResult({ path: 'd' }, ctx))).toMatch(/^d is a directory/);
  });

  it('refuses a binary file', async () => {
    writeFileSync(path.join(runDir, 'bin.dat'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02]));
    expect(await errorMessage(readFileResult({ path: 'bin.dat' }, ctx))).toMatch(/^bin.dat appears to be a binary file/);
  });

  it('reads an empty file', async () => {
    writeFileSync(path.join(runDir, 'empty.txt'), '');
    expect(await readFile({ path: 'empty.txt' }, ctx)).toBe('(empty file)');
  });

  it('refuses paths outside the run dir', async () => {
    expect(await errorMessage(readFileResult({ path: '/etc/passwd' }, ctx))).toMatch(/^path '\/etc\/passwd' is outside the run directory/);
    expect(await errorMessage(readFileResult({ path: '../x' }, ctx))).toMatch(/must stay inside the run directory/);
    symlinkSync('/etc/passwd', path.join(runDir, 'pw'));
    expect(await errorMessage(readFileResult({ path: 'pw' }, ctx))).toMatch(/must stay inside the run directory/);
  });
});
