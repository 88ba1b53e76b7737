import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { listDir as listDirResult } from '../../src/activities/tools/listDir';
import { errorMessage, wire } from './support/results';

/** The text the model sees of a list_dir call. */
const listDir = (args: unknown, ctx: ToolContext) => wire(listDirResult(args, ctx));

describe('listDir', () => {
  let runDir: string;
  let ctx: ToolContext;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-list-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
    mkdirSync(path.join(runDir, 'src', 'lib', 'deep', 'deeper'), { recursive: true });
    writeFileSync(path.join(runDir, 'src', 'lib', 'deep', 'deeper', 'x.ts'), '');
    writeFileSync(path.join(runDir, 'src', 'lib', 'util.ts'), '');
    writeFileSync(path.join(runDir, 'src', 'index.ts'), '');
    writeFileSync(path.join(runDir, 'README.md'), '');
    writeFileSync(path.join(runDir, 'b.txt'), '');
    symlinkSync('src', path.join(runDir, 'link'));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('lists two levels by default, sorted, with markers', async () => {
    expect(await listDir({ path: '.' }, ctx)).toBe([runDir, '  README.md', '  b.txt', '  link@', '  src/', '    index.ts', '    lib/'].join('\n'));
  });

  it('honours depth (capped at 5)', async () => {
    expect(await listDir({ path: '.', depth: 1 }, ctx)).toBe([runDir, '  README.md', '  b.txt', '  link@', '  src/'].join('\n'));
    expect(await listDir({ path: 'src', depth: 3 }, ctx)).toBe(
      [path.join(runDir, 'src'), '  index.ts', '  lib/', '    deep/', '      deeper/', '    util.ts'].join('\n'),
    );
    const deep = await listDir({ path: '.', depth: 50 }, ctx);
    expect(deep).toContain('          x.ts');
    expect(await errorMessage(listDirResult({ path: '.', depth: 0 }, ctx))).toMatch(/^invalid arguments for list_dir: depth/);
  });

  it('caps the number of entries', async () => {
    mkdirSync(path.join(runDir, 'many'));
    for (let i = 0; i < 520; i++) writeFileSync(path.join(runDir, 'many', `f${String(i).padStart(3, '0')}`), '');
    const out = (await listDir({ path: 'many' }, ctx)).split('\n');
    expect(out).toHaveLength(1 + 500 + 1);
    expect(out[out.length - 1]).toMatch(/truncated after 500 entries/);
  });

  it('refuses escapes and non-directories', async () => {
    expect(await errorMessage(listDirResult({ path: '..' }, ctx))).toMatch(/must stay inside the run directory/);
    expect(await errorMessage(listDirResult({ path: '/' }, ctx))).toMatch(/must stay inside the run directory/);
    symlinkSync(os.tmpdir(), path.join(runDir, 'out'));
    expect(await errorMessage(listDirResult({ path: 'out' }, ctx))).toMatch(/must stay inside the run directory/);
    expect(await errorMessage(listDirResult({ path: 'README.md' }, ctx))).toMatch(/^README.md is not a directory/);
    expect(await listDirResult({ path: 'missing' }, ctx)).toEqual({ type: 'error', kind: 'error_output', message: 'directory not found: missing' });
    expect(await listDir({ path: 'missing' }, ctx)).toBe('Error: directory not found: missing');
  });

  it('lists the symlink target when asked for a symlink inside the run dir', async () => {
    expect((await listDir({ path: 'link', depth: 1 }, ctx)).split('\n')[0]).toBe(path.join(runDir, 'src'));
  });
});
