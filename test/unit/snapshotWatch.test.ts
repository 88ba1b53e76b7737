/**
 * Turn snapshots from a watcher's change set (docs/architecture.md decision 13): after the walk
 * that starts a run directory's watcher, a snapshot re-reads only what changed, and it must list
 * exactly what a fresh snapshot of the directory lists, whatever the turn did; anything that may
 * have made the watcher miss an event sends the snapshot back to the walk.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { snapshotTurn } from '../../src/activities/snapshots';
import { setWatchLimits, stopIdleWatchers, stopSnapshotWatchers, watcherOf, watchLimits } from '../../src/activities/snapshotWatch';
import type { ToolContext } from '../../src/activities/tools/context';
import { shellTool } from '../../src/activities/tools/shell';
import { clearSnapshotCache, manifestPath, readSnapshot, type SnapshotManifest } from '../../src/host/snapshotManifest';

let work: string;
const defaults = { ...watchLimits() };
beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'infty-watch-')));
  setWatchLimits({ minFiles: 10 });
});
afterEach(() => stopSnapshotWatchers());
afterAll(() => {
  setWatchLimits(defaults);
  rmSync(work, { recursive: true, force: true });
});

const roles = { solver: { generation: 0, committedLength: 1 } };

function content(m: SnapshotManifest | undefined) {
  return (m?.files ?? []).map((f) => ({ path: f.path, sha256: f.sha256, size: f.size, mode: f.mode, link: f.link })).sort((a, b) => (a.path < b.path ? -1 : 1));
}

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

/** Turns 1 (no previous manifest: a walk) and 2 (a walk that starts the watcher). */
async function started(name: string) {
  const home = join(work, `home-${name}`);
  const runDir = join(work, `run-${name}`);
  tree(runDir);
  const outsideLink = join(work, `outside-link-${name}`);
  linkSync(join(runDir, 'project', 'src', 'f9.ts'), outsideLink);
  expect((await snapshotTurn({ runId: name, runDir, turn: 1, roles }, home)).scan).toBe('tree');
  expect((await snapshotTurn({ runId: name, runDir, turn: 2, roles }, home)).scan).toBe('tree');
  expect(watcherOf(home, name, runDir)).toBeDefined();
  return { home, runDir, outsideLink, p: (...s: string[]) => join(runDir, 'project', ...s) };
}

describe('snapshots from a watcher', () => {
  it('each turn re-reads only what changed and lists what a fresh snapshot lists', async () => {
    const { home, runDir, p, outsideLink } = await started('w');
    const sandboxed: ToolContext = { runDir, sandbox: 'bwrap', allowNetwork: false };
    const edits: { edit: () => unknown; scan?: 'tree' }[] = [
      {
        // same size, mtime put back into the same second
        edit: () => {
          const st = statSync(p('src', 'f2.ts'));
          writeFileSync(p('src', 'f2.ts'), 'export const v2 = 7;\n');
          utimesSync(p('src', 'f2.ts'), st.atime, st.mtime);
        },
      },
      { edit: () => writeFileSync(p('src', 'new.ts'), 'created\n') },
      { edit: () => unlinkSync(p('src', 'f3.ts')) },
      { edit: () => renameSync(p('src', 'f4.ts'), p('src', 'f4-renamed.ts')) },
      { edit: () => renameSync(p('src', 'deep'), p('moved-deep')) },
      { edit: () => appendFileSync(p('moved-deep', 'g.ts'), 'changed after its directory moved\n') },
      { edit: () => rmSync(p('docs'), { recursive: true }) },
      { edit: () => mkdirSync(p('a', 'b', 'c'), { recursive: true }) },
      { edit: () => writeFileSync(p('a', 'b', 'c', 'late.txt'), 'in a directory made a turn earlier\n') },
      {
        // a directory replaced by a link to another one, with a file beneath changed first: nothing is read through the link
        edit: () => {
          writeFileSync(p('a', 'b', 'c', 'late.txt'), 'changed, then its directory went\n');
          rmSync(p('a'), { recursive: true });
          symlinkSync('moved-deep', p('a'));
        },
      },
      { edit: () => appendFileSync(p('a', 'g.ts'), 'written through the link\n') },
      {
        edit: () => {
          unlinkSync(p('link'));
          symlinkSync('src/f5.ts', p('link'));
        },
      },
      { edit: () => chmodSync(p('src', 'f6.ts'), 0o700) },
      {
        // a file replaced by a directory
        edit: () => {
          unlinkSync(p('src', 'f7.ts'));
          mkdirSync(p('src', 'f7.ts'));
          writeFileSync(p('src', 'f7.ts', 'inner.ts'), 'inner\n');
        },
      },
      {
        // and a directory replaced by a file
        edit: () => {
          rmSync(p('src', 'f7.ts'), { recursive: true });
          writeFileSync(p('src', 'f7.ts'), 'a file again\n');
        },
      },
      // the real shell tool, in bubblewrap: the run directory is bind-mounted, inotify sees its writes
      {
        edit: () =>
          shellTool({ command: ['sh', '-c', 'printf sandboxed > project/src/f8.ts && mkdir -p project/out/x && echo o > project/out/x/o.txt'] }, sandboxed),
      },
      // a file linked from outside the run before the watcher started: written through the other name, it raises no event here
      { edit: () => appendFileSync(outsideLink, 'written through a link outside the run\n') },
      // a new hard link inside the run, written through its first name in the same turn: the walk, since its names are not known
      {
        edit: () => shellTool({ command: ['sh', '-c', 'ln project/src/f10.ts project/src/f10-link.ts && echo more >> project/src/f10.ts'] }, sandboxed),
        scan: 'tree',
      },
      { edit: () => appendFileSync(p('src', 'f10-link.ts'), 'through the second name\n') },
    ];
    for (const [i, { edit, scan }] of edits.entries()) {
      const turn = i + 3;
      await edit();
      const r = await snapshotTurn({ runId: 'w', runDir, turn, roles }, home);
      expect(r.scan, `turn ${turn}`).toBe(scan ?? 'changes');
      expect(content(await readSnapshot(home, 'w', turn)), `turn ${turn}`).toEqual(content(await fresh(runDir)));
    }
    expect(readFileSync(p('src', 'f8.ts'), 'utf8')).toBe('sandboxed');
    // Turn 3's delta holds the one file edited, nothing else.
    const t3 = JSON.parse(readFileSync(manifestPath(home, 'w', 3), 'utf8'));
    expect(t3.changed.map((f: { path: string }) => f.path)).toEqual(['project/src/f2.ts']);
  });

  it('walks again in a new process, after the watcher failed, and when it is stopped or never started', async () => {
    const { home, runDir, p } = await started('f');
    // a new worker process: no watcher, no cache
    stopSnapshotWatchers();
    clearSnapshotCache();
    writeFileSync(p('src', 'f0.ts'), 'while no watcher was alive\n');
    expect((await snapshotTurn({ runId: 'f', runDir, turn: 3, roles }, home)).scan).toBe('tree');
    expect(content(await readSnapshot(home, 'f', 3))).toEqual(content(await fresh(runDir)));
    // that walk started a watcher again
    writeFileSync(p('src', 'f0.ts'), 'seen by the new watcher\n');
    expect((await snapshotTurn({ runId: 'f', runDir, turn: 4, roles }, home)).scan).toBe('changes');

    // a failure injected into the watcher (as an error from inotifywait would)
    watcherOf(home, 'f', runDir)!.fail('injected');
    writeFileSync(p('src', 'f1.ts'), 'after the failure\n');
    expect((await snapshotTurn({ runId: 'f', runDir, turn: 5, roles }, home)).scan).toBe('tree');
    expect(content(await readSnapshot(home, 'f', 5))).toEqual(content(await fresh(runDir)));

    // the watcher process killed from outside
    process.kill(watcherOf(home, 'f', runDir)!.pid!, 'SIGKILL');
    writeFileSync(p('src', 'f2.ts'), 'after the watcher died\n');
    expect((await snapshotTurn({ runId: 'f', runDir, turn: 6, roles }, home)).scan).toBe('tree');
    expect(content(await readSnapshot(home, 'f', 6))).toEqual(content(await fresh(runDir)));

    // a watch limit too low for the tree: no watcher, every snapshot walks
    stopSnapshotWatchers();
    setWatchLimits({ maxWatches: 2 });
    try {
      expect((await snapshotTurn({ runId: 'f', runDir, turn: 7, roles }, home)).scan).toBe('tree');
      expect(watcherOf(home, 'f', runDir)).toBeUndefined();
      expect((await snapshotTurn({ runId: 'f', runDir, turn: 8, roles }, home)).scan).toBe('tree');
    } finally {
      setWatchLimits({ maxWatches: defaults.maxWatches });
    }
  });

  it('a kernel queue that overflowed while the watcher could not read (stopped) forces the walk', async () => {
    const { home, runDir, p } = await started('o');
    const pid = watcherOf(home, 'o', runDir)!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      // more events than the kernel queues (max_queued_events): the later ones are dropped
      const limit = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
      execFileSync('sh', ['-c', `i=0; while [ $i -lt ${limit} ]; do : > project/src/f0.ts; i=$((i+1)); done; echo dropped > project/src/f1.ts`], {
        cwd: runDir,
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const r = await snapshotTurn({ runId: 'o', runDir, turn: 3, roles }, home);
    expect(r.scan).toBe('tree');
    expect(readFileSync(p('src', 'f1.ts'), 'utf8')).toBe('dropped\n');
    expect(content(await readSnapshot(home, 'o', 3))).toEqual(content(await fresh(runDir)));
  }, 60_000);

  it('a watcher ends when idle, and every watcher when the worker stops: no inotifywait is left', async () => {
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
      return ok();
    };
    const a = await started('idle-a');
    const b = await started('idle-b');
    const pidA = watcherOf(a.home, 'idle-a', a.runDir)!.pid!;
    const pidB = watcherOf(b.home, 'idle-b', b.runDir)!.pid!;
    expect(alive(pidA) && alive(pidB)).toBe(true);
    watcherOf(b.home, 'idle-b', b.runDir)!.lastUsed = Date.now() - defaults.idleMs - 1;
    stopIdleWatchers();
    expect(watcherOf(b.home, 'idle-b', b.runDir)).toBeUndefined();
    expect(await until(() => !alive(pidB))).toBe(true);
    expect(watcherOf(a.home, 'idle-a', a.runDir)).toBeDefined();
    // the next snapshot of the idle run walks, and starts a watcher again
    expect((await snapshotTurn({ runId: 'idle-b', runDir: b.runDir, turn: 3, roles }, b.home)).scan).toBe('tree');
    const pidB2 = watcherOf(b.home, 'idle-b', b.runDir)!.pid!;
    stopSnapshotWatchers();
    expect(await until(() => !alive(pidA) && !alive(pidB2))).toBe(true);
  });

  it('keeps small trees on the walk: no watcher below the file threshold', async () => {
    setWatchLimits({ minFiles: 1000 });
    try {
      const home = join(work, 'home-s');
      const runDir = join(work, 'run-s');
      tree(runDir);
      for (const turn of [1, 2, 3]) expect((await snapshotTurn({ runId: 's', runDir, turn, roles }, home)).scan).toBe('tree');
      expect(watcherOf(home, 's', runDir)).toBeUndefined();
    } finally {
      setWatchLimits({ minFiles: 10 });
    }
  });
});
