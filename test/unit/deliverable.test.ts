import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDeliverable } from '../../src/activities/deliverable';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let base: string;
let runDir: string;
let outside: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'infty-deliverable-')));
  runDir = join(base, 'run');
  outside = join(base, 'outside');
  mkdirSync(join(runDir, 'deliverable', 'sub'), { recursive: true });
  mkdirSync(join(runDir, 'empty'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(runDir, 'answer.txt'), 'forty-two\n');
  writeFileSync(join(runDir, 'deliverable', 'b.txt'), 'bee');
  writeFileSync(join(runDir, 'deliverable', 'a.txt'), 'ay!');
  writeFileSync(join(runDir, 'deliverable', 'z.md'), '');
  writeFileSync(join(runDir, 'deliverable', 'sub', 'c.txt'), 'sea');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(base, 'sibling.txt'), 'sibling');
  // a symlink inside the deliverable: not followed in the manifest
  symlinkSync(join(outside, 'secret.txt'), join(runDir, 'deliverable', 'link-out.txt'));
  symlinkSync(join(outside, 'secret.txt'), join(runDir, 'escape.txt'));
  symlinkSync(outside, join(runDir, 'escape-dir'));
  symlinkSync(join(runDir, 'answer.txt'), join(runDir, 'alias.txt'));
  symlinkSync('deliverable', join(runDir, 'alias-dir'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('validateDeliverable', () => {
  it('accepts a file with its size and sha256', async () => {
    expect(await validateDeliverable({ runDir, path: 'answer.txt' })).toEqual({
      ok: true,
      path: join(runDir, 'answer.txt'),
      relativePath: 'answer.txt',
      kind: 'file',
      size: 10,
      sha256: sha('forty-two\n'),
      contentHash: sha('forty-two\n'),
    });
  });

  it('trims the claimed path', async () => {
    const r = await validateDeliverable({ runDir, path: '  answer.txt \n' });
    expect(r).toMatchObject({ ok: true, relativePath: 'answer.txt' });
  });

  it('accepts a directory with a manifest sorted by path, with sizes and hashes (symlinks not followed)', async () => {
    const r = await validateDeliverable({ runDir, path: 'deliverable' });
    expect(r).toEqual({
      ok: true,
      path: join(runDir, 'deliverable'),
      relativePath: 'deliverable',
      kind: 'directory',
      size: 9,
      files: 4,
      manifest: [
        { path: 'a.txt', size: 3, sha256: sha('ay!') },
        { path: 'b.txt', size: 3, sha256: sha('bee') },
        { path: join('sub', 'c.txt'), size: 3, sha256: sha('sea') },
        { path: 'z.md', size: 0, sha256: sha('') },
      ],
      // The manifest hash: sha256 of the full manifest's canonical JSON (sorted keys, no whitespace).
      contentHash: sha(
        `[{"path":"a.txt","sha256":"${sha('ay!')}","size":3},{"path":"b.txt","sha256":"${sha('bee')}","size":3},` +
          `{"path":${JSON.stringify(join('sub', 'c.txt'))},"sha256":"${sha('sea')}","size":3},{"path":"z.md","sha256":"${sha('')}","size":0}]`,
      ),
    });
  });

  it('accepts a directory given with a trailing slash or ./ prefix', async () => {
    expect(await validateDeliverable({ runDir, path: './deliverable/' })).toMatchObject({ ok: true, relativePath: 'deliverable', kind: 'directory' });
  });

  it('accepts an empty directory with an empty manifest', async () => {
    expect(await validateDeliverable({ runDir, path: 'empty' })).toMatchObject({ ok: true, kind: 'directory', size: 0, manifest: [] });
  });

  it('accepts the run directory itself as "."', async () => {
    expect(await validateDeliverable({ runDir, path: '.' })).toMatchObject({ ok: true, relativePath: '.', kind: 'directory' });
  });

  it('accepts an absolute path inside the run directory', async () => {
    expect(await validateDeliverable({ runDir, path: join(runDir, 'answer.txt') })).toMatchObject({ ok: true, relativePath: 'answer.txt' });
  });

  it('accepts a path that goes out with .. and comes back in', async () => {
    expect(await validateDeliverable({ runDir, path: '../run/answer.txt' })).toMatchObject({ ok: true, relativePath: 'answer.txt' });
  });

  it('refuses a missing path', async () => {
    const r = await validateDeliverable({ runDir, path: 'deliverable/nope.txt' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/does not exist/);
  });

  it.each([['../sibling.txt'], ['../outside/secret.txt'], ['..'], ['../x']])('refuses %j, which escapes the run directory', async (p) => {
    const r = await validateDeliverable({ runDir, path: p });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/outside the run directory/);
  });

  it('refuses an absolute path outside the run directory', async () => {
    for (const p of [join(outside, 'secret.txt'), '/etc/hostname', base]) {
      const r = await validateDeliverable({ runDir, path: p });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/outside/);
    }
  });

  it('refuses a symlink pointing outside (file, directory, and a path through it)', async () => {
    for (const p of ['escape.txt', 'escape-dir', 'escape-dir/secret.txt']) {
      const r = await validateDeliverable({ runDir, path: p });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/outside/);
    }
  });

  it('accepts a symlink pointing inside, reporting the canonical target', async () => {
    expect(await validateDeliverable({ runDir, path: 'alias.txt' })).toMatchObject({
      ok: true,
      kind: 'file',
      path: join(runDir, 'answer.txt'),
      relativePath: 'answer.txt',
      sha256: sha('forty-two\n'),
    });
    expect(await validateDeliverable({ runDir, path: 'alias-dir' })).toMatchObject({
      ok: true,
      kind: 'directory',
      relativePath: 'deliverable',
    });
  });

  it.each([[''], ['   '], ['\n\t']])('refuses a blank path %j', async (p) => {
    const r = await validateDeliverable({ runDir, path: p });
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/blank/) });
  });

  it('works when the run directory is given through a symlink', async () => {
    const linkToRun = join(base, 'run-link');
    symlinkSync(runDir, linkToRun);
    expect(await validateDeliverable({ runDir: linkToRun, path: 'answer.txt' })).toMatchObject({
      ok: true,
      path: join(runDir, 'answer.txt'),
      relativePath: 'answer.txt',
    });
    expect((await validateDeliverable({ runDir: linkToRun, path: 'escape.txt' })).ok).toBe(false);
  });
});

describe('hashing a large deliverable reports progress (the activity heartbeats on it)', () => {
  it('calls progress while reading a 12 MB file and while walking a directory', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'infty-deliverable-big-')));
    try {
      mkdirSync(join(dir, 'deliverable'));
      writeFileSync(join(dir, 'deliverable', 'big.bin'), Buffer.alloc(12 * 1024 * 1024, 7));
      let calls = 0;
      const file = await validateDeliverable({ runDir: dir, path: 'deliverable/big.bin' }, () => calls++);
      expect(file.ok && file.kind === 'file' && file.size).toBe(12 * 1024 * 1024);
      expect(calls).toBeGreaterThanOrEqual(10);
      calls = 0;
      await validateDeliverable({ runDir: dir, path: 'deliverable' }, () => calls++);
      expect(calls).toBeGreaterThanOrEqual(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
