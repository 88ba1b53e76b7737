/**
 * Delta manifests of turn snapshots (docs/architecture.md decision 13): whatever a turn did, the
 * chain resolves to exactly what a fresh snapshot of the same directory lists, and every reader
 * (fork, `infty diff --at-turn`) goes through the one resolver.
 */
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materializeFork } from '../../src/activities/forkRun';
import { snapshotTurn } from '../../src/activities/snapshots';
import { detectSandbox, wrapCommand } from '../../src/activities/tools/sandbox';
import { readTurnManifest, writeTurnProject } from '../../src/host/project/turnTree';
import { clearSnapshotCache, MAX_DELTA_DEPTH, manifestPath, readSnapshot, type SnapshotManifest } from '../../src/host/snapshotManifest';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'infty-deltas-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const roles = { solver: { generation: 0, committedLength: 2 } };
const stored = (home: string, runId: string, turn: number) => JSON.parse(readFileSync(manifestPath(home, runId, turn), 'utf8'));

/** Paths, contents, modes and links: what a snapshot promises about a directory. */
function content(m: SnapshotManifest | undefined) {
  return (m?.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size, mode: f.mode, link: f.link })).sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A snapshot of `runDir` into an empty store: every file hashed, nothing taken from an earlier manifest. */
async function fresh(runDir: string): Promise<SnapshotManifest> {
  const home = mkdtempSync(join(work, 'fresh-'));
  await snapshotTurn({ runId: 'fresh', runDir, turn: 1, roles }, home);
  return (await readSnapshot(home, 'fresh', 1))!;
}

function tree(runDir: string): void {
  mkdirSync(join(runDir, 'project', 'src', 'deep'), { recursive: true });
  mkdirSync(join(runDir, 'project', 'docs'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(runDir, 'project', 'src', `f${i}.ts`), `export const v${i} = ${i};\n`);
  writeFileSync(join(runDir, 'project', 'src', 'deep', 'g.ts'), 'deep\n');
  writeFileSync(join(runDir, 'project', 'docs', 'a.md'), '# a\n');
  symlinkSync('src/f1.ts', join(runDir, 'project', 'link'));
  writeFileSync(join(runDir, 'run.json'), '{}');
}

describe('delta manifests', () => {
  it('a chain of deltas resolves to what a fresh snapshot lists, turn after turn, across a new process', async () => {
    const home = join(work, 'home-a');
    const runDir = join(work, 'run-a');
    tree(runDir);
    const p = (...s: string[]) => join(runDir, 'project', ...s);
    const edits: ((turn: number) => void | Promise<void>)[] = [
      // an in-place edit keeping the size, in the same second
      () => {
        const st = statSync(p('src', 'f2.ts'));
        writeFileSync(p('src', 'f2.ts'), 'export const v2 = 9;\n');
        utimesSync(p('src', 'f2.ts'), st.atime, new Date(Math.floor(st.mtimeMs / 1000) * 1000 + 999));
      },
      () => writeFileSync(p('src', 'new.ts'), 'created\n'),
      () => unlinkSync(p('src', 'f3.ts')),
      () => renameSync(p('src', 'f4.ts'), p('src', 'f4-renamed.ts')),
      () => renameSync(p('src', 'deep'), p('moved-deep')),
      () => rmSync(p('docs'), { recursive: true }),
      () => {
        unlinkSync(p('link'));
        symlinkSync('src/f5.ts', p('link'));
      },
      () => chmodSync(p('src', 'f6.ts'), 0o755),
      () => {
        // a file replaced by a directory, a link by a file
        unlinkSync(p('src', 'f7.ts'));
        mkdirSync(p('src', 'f7.ts'));
        writeFileSync(p('src', 'f7.ts', 'inner.ts'), 'inner\n');
        unlinkSync(p('link'));
        writeFileSync(p('link'), 'now a file\n');
      },
      () => clearSnapshotCache(), // a new worker process: the chain is read from disk
      () => appendFileSync(p('src', 'f8.ts'), '// more\n'),
    ];
    expect((await snapshotTurn({ runId: 'a', runDir, turn: 1, roles }, home)).files).toBe(23);
    expect(stored(home, 'a', 1).parent).toBeUndefined();
    for (const [i, edit] of edits.entries()) {
      const turn = i + 2;
      await edit(turn);
      const r = await snapshotTurn({ runId: 'a', runDir, turn, roles }, home);
      const m = await readSnapshot(home, 'a', turn);
      expect(content(m), `turn ${turn}`).toEqual(content(await fresh(runDir)));
      expect(r.files).toBe(m!.files.length);
      expect(stored(home, 'a', turn), `turn ${turn}`).toMatchObject({ parent: turn - 1, depth: turn - 1 });
    }
    // A delta lists only what changed: turn 2 one file, turn 5 the rename (one removed, one added).
    expect(stored(home, 'a', 2)).toMatchObject({ changed: [{ path: 'project/src/f2.ts' }], removed: [] });
    expect(stored(home, 'a', 5)).toMatchObject({ changed: [{ path: 'project/src/f4-renamed.ts' }], removed: ['project/src/f4.ts'] });
    // Earlier turns still resolve to their own files.
    expect((await readSnapshot(home, 'a', 2))!.files.map((f) => f.path)).toContain('project/src/f4.ts');
  });

  it('sees a change made by a shell command in the sandbox', async () => {
    const detection = await detectSandbox();
    expect(detection.available, detection.reason).toBe(true);
    const home = join(work, 'home-sh');
    const runDir = join(work, 'run-sh');
    tree(runDir);
    await snapshotTurn({ runId: 'sh', runDir, turn: 1, roles }, home);
    const { file, args } = wrapCommand('bwrap', ['sh', '-c', 'printf x > project/src/f1.ts && mkdir -p project/out && echo o > project/out/o.txt'], {
      runDir,
      cwd: runDir,
      allowNetwork: false,
      hide: [home],
    });
    await promisify(execFile)(file, args);
    await snapshotTurn({ runId: 'sh', runDir, turn: 2, roles }, home);
    expect(
      stored(home, 'sh', 2)
        .changed.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['project/out/o.txt', 'project/src/f1.ts']);
    expect(content(await readSnapshot(home, 'sh', 2))).toEqual(content(await fresh(runDir)));
  });

  it('writes a full manifest when the chain gets long or large, so reading stays bounded', async () => {
    const home = join(work, 'home-b');
    const runDir = join(work, 'run-b');
    tree(runDir);
    mkdirSync(join(runDir, 'project', 'many'));
    for (let i = 0; i < 300; i++) writeFileSync(join(runDir, 'project', 'many', `m${i}.txt`), `${i}\n`);
    await snapshotTurn({ runId: 'b', runDir, turn: 1, roles }, home);
    for (let turn = 2; turn <= MAX_DELTA_DEPTH + 2; turn++) {
      appendFileSync(join(runDir, 'project', 'src', 'f0.ts'), `// ${turn}\n`);
      await snapshotTurn({ runId: 'b', runDir, turn, roles }, home);
    }
    expect(stored(home, 'b', MAX_DELTA_DEPTH + 1)).toMatchObject({ parent: MAX_DELTA_DEPTH, depth: MAX_DELTA_DEPTH });
    expect(stored(home, 'b', MAX_DELTA_DEPTH + 2).parent).toBeUndefined();
    // A turn that changed more than a quarter of the files is written full at once; one that changed fewer is a delta.
    for (let i = 0; i < 50; i++) appendFileSync(join(runDir, 'project', 'many', `m${i}.txt`), 'some\n');
    await snapshotTurn({ runId: 'b', runDir, turn: MAX_DELTA_DEPTH + 3, roles }, home);
    expect(stored(home, 'b', MAX_DELTA_DEPTH + 3)).toMatchObject({ parent: MAX_DELTA_DEPTH + 2, depth: 1 });
    for (let i = 0; i < 100; i++) appendFileSync(join(runDir, 'project', 'many', `m${i}.txt`), 'most\n');
    await snapshotTurn({ runId: 'b', runDir, turn: MAX_DELTA_DEPTH + 4, roles }, home);
    expect(stored(home, 'b', MAX_DELTA_DEPTH + 4).parent).toBeUndefined();
    expect(content(await readSnapshot(home, 'b', MAX_DELTA_DEPTH + 4))).toEqual(content(await fresh(runDir)));
  });

  it('an old full manifest (written before deltas) is read unchanged and new deltas build on it', async () => {
    const home = join(work, 'home-old');
    const runDir = join(work, 'run-old');
    tree(runDir);
    await snapshotTurn({ runId: 'old', runDir, turn: 1, roles }, home);
    // The format of runs from before deltas: {runId, turn, files, roles}, nothing else.
    const m1 = (await readSnapshot(home, 'old', 1))!;
    writeFileSync(manifestPath(home, 'old', 1), `${JSON.stringify({ runId: 'old', turn: 1, files: m1.files, roles })}\n`);
    clearSnapshotCache();
    writeFileSync(join(runDir, 'project', 'added.txt'), 'added\n');
    await snapshotTurn({ runId: 'old', runDir, turn: 2, roles }, home);
    expect(stored(home, 'old', 2)).toMatchObject({ parent: 1, changed: [{ path: 'project/added.txt' }] });
    expect(content(await readSnapshot(home, 'old', 1))).toEqual(content(m1));
    expect(content(await readSnapshot(home, 'old', 2))).toEqual(content(await fresh(runDir)));
  });

  it('a fork and `infty diff --at-turn` read a delta turn; a delta whose parent is gone is refused', async () => {
    const home = join(work, 'home-f');
    const runDir = join(work, 'run-f');
    tree(runDir);
    await snapshotTurn({ runId: 'f', runDir, turn: 1, roles }, home);
    writeFileSync(join(runDir, 'project', 'src', 'f0.ts'), 'changed at turn 2\n');
    renameSync(join(runDir, 'project', 'docs'), join(runDir, 'project', 'manual'));
    await snapshotTurn({ runId: 'f', runDir, turn: 2, roles }, home);
    writeFileSync(join(runDir, 'project', 'src', 'f0.ts'), 'changed at turn 3\n');
    await snapshotTurn({ runId: 'f', runDir, turn: 3, roles }, home);
    expect(stored(home, 'f', 2).parent).toBe(1);

    const forkDir = join(work, 'fork-f');
    expect(await materializeFork(home, forkDir, 'g', { runId: 'f', turn: 2 }, ['solver'])).toEqual(roles);
    expect(readFileSync(join(forkDir, 'project', 'src', 'f0.ts'), 'utf8')).toBe('changed at turn 2\n');
    expect(readdirSync(join(forkDir, 'project')).sort()).toEqual(['link', 'manual', 'src']);
    expect(readlinkSync(join(forkDir, 'project', 'link'))).toBe('src/f1.ts');

    const out = join(work, 'turn-2-tree');
    await writeTurnProject(home, (await readTurnManifest(home, 'f', 2))!, 'project', out);
    expect(readFileSync(join(out, 'src', 'f0.ts'), 'utf8')).toBe('changed at turn 2\n');
    expect(readFileSync(join(out, 'manual', 'a.md'), 'utf8')).toBe('# a\n');

    unlinkSync(manifestPath(home, 'f', 2));
    await expect(materializeFork(home, join(work, 'fork-h'), 'h', { runId: 'f', turn: 3 }, ['solver'])).rejects.toThrow(
      /turn 3 of run f names turn 2, whose manifest is missing/,
    );
  });
});
