import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PathOutsideRunDirError, resolveInsideRunDir } from '../../src/activities/tools/paths';

describe('resolveInsideRunDir', () => {
  let runDir: string;
  let outside: string;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-paths-')));
    outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-outside-')));
  });
  afterEach(() => {
    rmSync(runDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('resolves relative paths against the run dir', async () => {
    writeFileSync(path.join(runDir, 'a.txt'), 'x');
    expect(await resolveInsideRunDir(runDir, 'a.txt')).toBe(path.join(runDir, 'a.txt'));
    expect(await resolveInsideRunDir(runDir, '.')).toBe(runDir);
    expect(await resolveInsideRunDir(runDir, 'sub/../a.txt')).toBe(path.join(runDir, 'a.txt'));
  });

  it('refuses .. escapes', async () => {
    await expect(resolveInsideRunDir(runDir, '../x')).rejects.toBeInstanceOf(PathOutsideRunDirError);
    await expect(resolveInsideRunDir(runDir, 'a/../../x')).rejects.toThrow(/must stay inside the run directory/);
    await expect(resolveInsideRunDir(runDir, '..')).rejects.toThrow(PathOutsideRunDirError);
  });

  it('allows absolute paths only inside the run dir', async () => {
    expect(await resolveInsideRunDir(runDir, path.join(runDir, 'new.txt'))).toBe(path.join(runDir, 'new.txt'));
    await expect(resolveInsideRunDir(runDir, '/etc/passwd')).rejects.toThrow(/'\/etc\/passwd' is outside the run directory/);
    await expect(resolveInsideRunDir(runDir, outside)).rejects.toBeInstanceOf(PathOutsideRunDirError);
    // A sibling whose name merely starts with the run dir's name is outside.
    await expect(resolveInsideRunDir(runDir, `${runDir}-evil/x`)).rejects.toBeInstanceOf(PathOutsideRunDirError);
  });

  it('refuses symlinks escaping the run dir', async () => {
    symlinkSync(outside, path.join(runDir, 'escape'));
    await expect(resolveInsideRunDir(runDir, 'escape')).rejects.toBeInstanceOf(PathOutsideRunDirError);
    await expect(resolveInsideRunDir(runDir, 'escape/new/file.txt')).rejects.toBeInstanceOf(PathOutsideRunDirError);
    // A dangling symlink pointing outside: creating through it would land outside.
    symlinkSync(path.join(outside, 'not-yet'), path.join(runDir, 'dangling'));
    await expect(resolveInsideRunDir(runDir, 'dangling')).rejects.toBeInstanceOf(PathOutsideRunDirError);
  });

  it('accepts symlinks that stay inside and resolves them', async () => {
    mkdirSync(path.join(runDir, 'real'));
    writeFileSync(path.join(runDir, 'real', 'f.txt'), 'x');
    symlinkSync('real', path.join(runDir, 'alias'));
    expect(await resolveInsideRunDir(runDir, 'alias/f.txt')).toBe(path.join(runDir, 'real', 'f.txt'));
    expect(await resolveInsideRunDir(runDir, 'alias/new.txt')).toBe(path.join(runDir, 'real', 'new.txt'));
  });

  it('accepts a not-yet-existing nested file', async () => {
    expect(await resolveInsideRunDir(runDir, 'a/b/c/new.txt')).toBe(path.join(runDir, 'a', 'b', 'c', 'new.txt'));
  });

  it('accepts a run dir given through a symlink', async () => {
    const link = path.join(outside, 'run-link');
    symlinkSync(runDir, link);
    expect(await resolveInsideRunDir(link, 'x.txt')).toBe(path.join(runDir, 'x.txt'));
    expect(await resolveInsideRunDir(link, path.join(link, 'x.txt'))).toBe(path.join(runDir, 'x.txt'));
  });
});
