/**
 * 8. Turn snapshots of a big project run (docs/architecture.md decision 13): after each Solver turn
 * `snapshotTurn` records the run directory. For each tree (the project copy's files of benchmark 6
 * under <run dir>/project, plus run.json):
 *  (a) baseline, in the same run: a stat-only walk of the tree (readdir and lstat of every file,
 *      nothing read or written), median of 3; the first snapshot (every file hashed and stored);
 *      and a second one with nothing changed (a walk against the first's sizes and mtimes, which
 *      for a tree of 2,000 files or more starts the watcher of src/activities/snapshotWatch.ts);
 *  (b) turns that change 1, 10, 100 and 1,000 files (in-place edits, creations, deletions and
 *      renames mixed; `repeats` turns each, the median reported), each followed by `snapshotTurn`
 *      called as the worker calls it, in this process;
 *  (c) where bubblewrap works, a turn whose one change is made by a shell command in the sandbox
 *      the shell tool uses;
 *  (d) the check: the last turn's manifest, resolved, lists exactly the files a fresh snapshot of
 *      the same directory into an empty store lists (paths, hashes, modes, links).
 * A snapshot of a turn that changed k files should cost time proportional to k, not to the tree.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as snapshots from '../src/activities/snapshots';
import { stopSnapshotWatchers } from '../src/activities/snapshotWatch';
import { detectSandbox, wrapCommand } from '../src/activities/tools/sandbox';
import { readSnapshot } from '../src/host/snapshotManifest';
import { median, round, scratch } from './env';
import { makeTree } from './projectCopy';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface SnapshotScaleTree {
  files: number;
  /** Turns timed for each change count (the median is reported). */
  repeats: number;
}

export interface SnapshotScaleSize {
  trees: SnapshotScaleTree[];
  /** Files changed by a turn. */
  changes: number[];
  dirs: number;
}

async function statWalk(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await statWalk(p);
    else {
      await lstat(p);
      n += 1;
    }
  }
  return n;
}

async function timedMs<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Deterministic changes to `live` (relative paths under `root`): edits, creations, deletions, renames. */
function changeFiles(root: string, live: string[], count: number, turn: number): void {
  for (let i = 0; i < count; i++) {
    const kind = count === 1 ? 0 : i % 5; // 0, 1: edit; 2: create; 3: delete; 4: rename
    const at = (turn * 7919 + i * 104_729) % live.length;
    const rel = live[at]!;
    if (kind <= 1) appendFileSync(join(root, rel), `turn ${turn} edit ${i}\n`);
    else if (kind === 2) {
      const created = `project/new/t${turn}/n${i}.txt`;
      mkdirSync(join(root, 'project', 'new', `t${turn}`), { recursive: true });
      writeFileSync(join(root, created), `created at turn ${turn}, ${i}\n`);
      live.push(created);
    } else if (kind === 3) {
      rmSync(join(root, rel));
      live.splice(at, 1);
    } else {
      const moved = `${rel.slice(0, -'.txt'.length)}.r${turn}.txt`;
      renameSync(join(root, rel), join(root, moved));
      live[at] = moved;
    }
  }
}

function listLive(files: number, dirs: number): string[] {
  const dirCount = Math.min(dirs, Math.max(1, Math.ceil(files / 10)));
  return Array.from({ length: files }, (_, j) => `project/d${(j % dirCount) % 32}/s${j % dirCount}/f${j}.txt`);
}

interface TreeFigures {
  files: number;
  statWalkMs: number;
  firstSnapshotMs: number;
  /** The second snapshot, nothing changed since the first: a walk. */
  secondSnapshotMs: number;
  /** Per change count: median ms of a turn's snapshot, all timings, and the ratio to the stat walk. */
  turns: Record<string, { medianMs: number; allMs: number[]; ratioToStatWalk: number; ratioToFirstSnapshot: number; scans: string[] }>;
  sandboxedShellTurnMs?: number;
  sandboxedShellScan?: string;
  /** Whether the last turn's resolved manifest equals a fresh snapshot of the same directory. */
  matchesFreshSnapshot: boolean;
}

async function sandboxedAppend(runDir: string, rel: string): Promise<boolean> {
  const detection = await detectSandbox();
  if (!detection.available) return false;
  const { file, args } = wrapCommand('bwrap', ['sh', '-c', `echo sandboxed >> '${rel}'`], { runDir, cwd: runDir, allowNetwork: false, hide: [] });
  await promisify(execFile)(file, args);
  return true;
}

async function measureTree({ files, repeats }: SnapshotScaleTree, changes: number[], dirs: number): Promise<TreeFigures> {
  const work = scratch(`snapshots-${files}`);
  const home = join(work, 'home');
  const runDir = join(work, 'run');
  const runId = `bench-snap-${files}`;
  makeTree(join(runDir, 'project'), files, dirs);
  writeFileSync(join(runDir, 'run.json'), '{}\n');
  const live = listLive(files, dirs);
  await statWalk(runDir); // every inode read once before the first timing
  const walks: number[] = [];
  for (let r = 0; r < 3; r++) walks.push((await timedMs(() => statWalk(runDir))).ms);
  const statWalkMs = median(walks);
  let turn = 1;
  const snap = () => snapshots.snapshotTurn({ runId, runDir, turn, roles: {} }, home);
  const first = await timedMs(snap);
  // A second snapshot, nothing changed: a walk of the tree against the first one's sizes and mtimes
  // (for a tree of 2,000 files or more it starts the watcher the next turns use).
  turn += 1;
  const second = await timedMs(snap);
  process.stderr.write(
    `    ${files} files: stat walk ${fmt(statWalkMs, 1)} ms, first snapshot ${fmt(first.ms, 0)} ms, second (nothing changed) ${fmt(second.ms, 0)} ms (${second.value.scan ?? 'tree'})\n`,
  );
  const turns: TreeFigures['turns'] = {};
  for (const count of changes) {
    const all: number[] = [];
    const scans: string[] = [];
    for (let r = 0; r < repeats; r++) {
      turn += 1;
      changeFiles(runDir, live, count, turn);
      const t = await timedMs(snap);
      all.push(t.ms);
      scans.push(t.value.scan ?? 'tree');
    }
    const m = median(all);
    turns[String(count)] = {
      medianMs: round(m, 2),
      allMs: all.map((x) => round(x, 2)),
      ratioToStatWalk: round(m / statWalkMs, 3),
      ratioToFirstSnapshot: round(m / first.ms, 4),
      scans,
    };
    process.stderr.write(`    ${files} files, ${count} changed: ${fmt(m, 1)} ms a snapshot (${all.map((x) => fmt(x, 0)).join(', ')}; ${scans.join(', ')})\n`);
  }
  let sandboxedShellTurnMs: number | undefined;
  let sandboxedShellScan: string | undefined;
  turn += 1;
  if (await sandboxedAppend(runDir, live[0]!)) {
    const t = await timedMs(snap);
    sandboxedShellTurnMs = round(t.ms, 2);
    sandboxedShellScan = t.value.scan ?? 'tree';
  } else await snap();
  const resolved = await readSnapshot(home, runId, turn);
  const fresh = join(work, 'fresh-home');
  await snapshots.snapshotTurn({ runId: `${runId}-fresh`, runDir, turn: 1, roles: {} }, fresh);
  const freshManifest = await readSnapshot(fresh, `${runId}-fresh`, 1);
  const key = (m: typeof resolved) =>
    JSON.stringify((m?.files ?? []).map((f) => [f.path, f.sha256, f.mode, f.link ?? null]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)));
  const matchesFreshSnapshot = resolved !== undefined && key(resolved) === key(freshManifest);
  rmSync(work, { recursive: true, force: true });
  stopSnapshotWatchers();
  return {
    files,
    statWalkMs: round(statWalkMs, 2),
    firstSnapshotMs: round(first.ms, 1),
    secondSnapshotMs: round(second.ms, 1),
    turns,
    sandboxedShellTurnMs,
    sandboxedShellScan,
    matchesFreshSnapshot,
  };
}

export async function snapshotScaleBench(size: SnapshotScaleSize): Promise<BenchOutput> {
  const trees: Record<string, TreeFigures> = {};
  const rows: Row[] = [];
  for (const spec of size.trees) {
    const t = await measureTree(spec, size.changes, size.dirs);
    if (!t.matchesFreshSnapshot) throw new Error(`${t.files} files: the last turn's manifest differs from a fresh snapshot of the same directory`);
    trees[String(spec.files)] = t;
    const tree = `${spec.files.toLocaleString('en-US')} files`;
    rows.push({
      metric: `${tree}: first snapshot (every file hashed, stored)`,
      value: `${fmt(t.firstSnapshotMs, 0)} ms`,
      baseline: `${fmt(t.statWalkMs, 1)} ms stat walk`,
      ratio: ratio(t.firstSnapshotMs, t.statWalkMs),
    });
    rows.push({
      metric: `${tree}: second snapshot, nothing changed (a walk)`,
      value: `${fmt(t.secondSnapshotMs, 0)} ms`,
      baseline: `${fmt(t.statWalkMs, 1)} ms stat walk`,
      ratio: ratio(t.secondSnapshotMs, t.statWalkMs),
      note: 'sizes and mtimes against the first; from 2,000 files it starts the watcher',
    });
    for (const count of size.changes) {
      const c = t.turns[String(count)]!;
      rows.push({
        metric: `${tree}: snapshot of a turn that changed ${count.toLocaleString('en-US')}`,
        value: `${fmt(c.medianMs, 1)} ms`,
        baseline: `${fmt(t.statWalkMs, 1)} ms stat walk`,
        ratio: ratio(c.medianMs, t.statWalkMs, 3),
        note: `median of ${spec.repeats} (${c.scans.join(', ')}); ${fmt(c.ratioToFirstSnapshot * 100, 2)} % of the first snapshot`,
      });
    }
    if (t.sandboxedShellTurnMs !== undefined)
      rows.push({
        metric: `${tree}: snapshot after one file changed by a sandboxed shell command`,
        value: `${fmt(t.sandboxedShellTurnMs, 1)} ms`,
        baseline: `${fmt(t.statWalkMs, 1)} ms stat walk`,
        ratio: ratio(t.sandboxedShellTurnMs, t.statWalkMs, 3),
        note: t.sandboxedShellScan,
      });
  }
  const required = size.trees.flatMap((t) => [
    `trees.${t.files}.statWalkMs`,
    `trees.${t.files}.firstSnapshotMs`,
    `trees.${t.files}.secondSnapshotMs`,
    ...size.changes.flatMap((c) => [`trees.${t.files}.turns.${c}.medianMs`, `trees.${t.files}.turns.${c}.ratioToStatWalk`]),
  ]);
  return { rows, data: { trees }, required };
}
