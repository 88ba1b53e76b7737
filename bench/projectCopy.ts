/**
 * 6. Project copy (docs/behaviour.md §4.4, docs/architecture.md decision 14): a project run's
 * directory starts as a copy of the user's project, made through the content-addressed store.
 * For each tree (a plain directory, not a git work tree, so both sides copy exactly the same files:
 * small text files of varied sizes, each with distinct content, spread over ~1,000 directories):
 *  (a) the import as the owner worker makes it: listSource + copyTree (src/activities/project)
 *      into a fresh INFTY_HOME, every file read, hashed, stored as an object and written to the copy;
 *  (b) baseline: `cp -r` of the same tree (the real cp, spawned), in the same run;
 *  (c) the store after `storeImports` imports (ten for 10,000 files) of the same tree into one
 *      INFTY_HOME (the first stores every file, the rest find them there): `du` of
 *      INFTY_HOME/objects against `du` of one copy, and the same for the files alone (the store
 *      has its own directories: 256 shards instead of the tree's); also timed, the imports after
 *      the first (the case of many runs of one repository).
 * Timings are medians of `repeats` alternating import/cp pairs, each after `sync`, into fresh
 * directories; the source tree is in the page cache for both (it was just written and read).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { copyTree } from '../src/activities/project/copyTree';
import { listSource } from '../src/activities/project/listing';
import { median, round, scratch } from './env';
import { type BenchOutput, fmt, type Row, ratio } from './report';

export interface ProjectCopyTree {
  files: number;
  /** Import/cp pairs timed (the median is reported). */
  repeats: number;
  /** Imports of the tree into one store for (c) (the first stores every file). */
  storeImports: number;
}

export interface ProjectCopySize {
  trees: ProjectCopyTree[];
  /** Directories each tree's files are spread over (plus one level of parents); at most one per 10 files. */
  dirs: number;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await run('sync', []); // the previous step's dirty pages are not written back during this one
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Regular files under `root`: how many, their bytes, the disk blocks they take (KiB), and the directories (root included). */
async function census(root: string): Promise<{ files: number; bytes: number; fileDiskKiB: number; dirs: number }> {
  const out = { files: 0, bytes: 0, fileDiskKiB: 0, dirs: 0 };
  const walk = async (dir: string): Promise<void> => {
    out.dirs += 1;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await stat(p);
        out.files += 1;
        out.bytes += st.size;
        out.fileDiskKiB += (st.blocks * 512) / 1024;
      }
    }
  };
  await walk(root);
  return out;
}

/** `du` of `path`: disk usage (KiB, block-rounded) and apparent bytes (directories included). */
async function du(path: string): Promise<{ diskKiB: number; apparentBytes: number }> {
  const disk = Number((await run('du', ['-sk', path])).split('\t')[0]);
  const apparent = Number((await run('du', ['-sb', path])).split('\t')[0]);
  return { diskKiB: disk, apparentBytes: apparent };
}

/**
 * `files` text files in `dirs` directories under `root` (d<k>/s<i>/f<j>.txt): sizes log-uniform
 * from 64 B to 8 KiB (mean ~1.7 KiB), every file's content distinct (its own header line).
 */
export function makeTree(root: string, files: number, dirs: number): { bytes: number; dirs: number } {
  // Deterministic per tree size, so runs compare: a fraction in [0, 1) from a hash of (files, j).
  const fraction = (j: number) => createHash('sha256').update(`${files}:${j}`).digest().readUInt32BE(0) / 2 ** 32;
  const filler = Array.from({ length: 160 }, (_, i) => `${'abcdefghijklmnopqrstuvwxyz'.repeat(2).slice(i % 26, (i % 26) + 50)}\n`).join('');
  const dirCount = Math.min(dirs, Math.max(1, Math.ceil(files / 10)));
  const dirPaths = Array.from({ length: dirCount }, (_, i) => join(root, `d${i % 32}`, `s${i}`));
  for (const d of dirPaths) mkdirSync(d, { recursive: true });
  let bytes = 0;
  for (let j = 0; j < files; j++) {
    const size = Math.floor(64 * 2 ** (fraction(j) * 7));
    const head = `file ${j} of ${files}\n`;
    const text = head + filler.slice(0, Math.max(0, size - head.length));
    writeFileSync(join(dirPaths[j % dirCount]!, `f${j}.txt`), text);
    bytes += Buffer.byteLength(text);
  }
  return { bytes, dirs: dirCount + Math.min(dirCount, 32) };
}

/** Infty's import of `src` into `dest` with the store at `home` (what createRun does for --from on a plain directory). */
async function importTree(home: string, src: string, dest: string, expectFiles: number): Promise<{ newBytes: number }> {
  const tick = () => undefined;
  const listing = await listSource(src, false, tick);
  await mkdir(dest, { recursive: true });
  const copied = await copyTree(home, src, dest, listing.entries, tick);
  if (copied.unreadable.length > 0) throw new Error(`import could not read ${copied.unreadable.slice(0, 3).join(', ')}`);
  if (copied.files.length !== expectFiles) throw new Error(`import copied ${copied.files.length} files, expected ${expectFiles}`);
  return { newBytes: copied.newBytes };
}

interface TreeFigures {
  files: number;
  dirs: number;
  sourceBytes: number;
  importSeconds: number;
  cpSeconds: number;
  ratioImportOverCp: number;
  importSecondsAll: number[];
  cpSecondsAll: number[];
  /** Imports into a store that already holds every file (imports 2..storeImports of (c)). */
  reimportSeconds: number;
  ratioReimportOverCp: number;
  storeImports: number;
  storeDiskKiB: number;
  copyDiskKiB: number;
  ratioStoreOverCopy: number;
  storeApparentBytes: number;
  copyApparentBytes: number;
  ratioStoreOverCopyApparent: number;
  /** Objects in the store (one per distinct file), their bytes (= sourceBytes when nothing is stored twice), and its directories (objects/, the shards, tmp/). */
  storeObjects: number;
  storeObjectBytes: number;
  storeDirs: number;
  copyDirs: number;
  /** Disk blocks of the regular files alone (directories left out), store vs copy. */
  storeFileDiskKiB: number;
  copyFileDiskKiB: number;
  ratioStoreOverCopyFilesOnly: number;
  newBytesFirstImport: number;
  newBytesLaterImports: number;
}

async function measureTree({ files, repeats, storeImports }: ProjectCopyTree, dirs: number): Promise<TreeFigures> {
  const work = scratch(`project-${files}`);
  const src = join(work, 'source');
  const made = makeTree(src, files, dirs);
  await run('du', ['-sk', src]); // every inode of the tree read once before the first timing

  const importTimes: number[] = [];
  const cpTimes: number[] = [];
  let cpCopy = '';
  for (let r = 0; r < repeats; r++) {
    const home = join(work, `home-${r}`);
    const dest = join(work, `import-${r}`);
    importTimes.push(await timed(() => importTree(home, src, dest, files)));
    if (cpCopy) await rm(cpCopy, { recursive: true, force: true });
    cpCopy = join(work, `cp-${r}`);
    cpTimes.push(await timed(() => run('cp', ['-r', src, cpCopy])));
    await rm(home, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
    process.stderr.write(`    ${files} files, pair ${r + 1}/${repeats}: import ${fmt(importTimes[r], 2)} s, cp -r ${fmt(cpTimes[r], 2)} s\n`);
  }

  // (c) One store, `storeImports` imports of the same tree (each copy removed after it is made).
  const home = join(work, 'home-store');
  const reimports: number[] = [];
  let newBytesFirstImport = 0;
  let newBytesLaterImports = 0;
  for (let k = 0; k < storeImports; k++) {
    const dest = join(work, `store-import-${k}`);
    let newBytes = 0;
    const s = await timed(async () => ({ newBytes } = await importTree(home, src, dest, files)));
    if (k === 0) newBytesFirstImport = newBytes;
    else {
      newBytesLaterImports += newBytes;
      reimports.push(s);
    }
    await rm(dest, { recursive: true, force: true });
  }
  await run('sync', []);
  const store = await du(join(home, 'objects'));
  const objects = await census(join(home, 'objects'));
  const copied = await census(cpCopy);
  const copy = await du(cpCopy);
  await rm(work, { recursive: true, force: true });
  // Every file stored exactly once, whatever the number of imports.
  if (objects.files !== files || objects.bytes !== made.bytes || newBytesFirstImport !== made.bytes || newBytesLaterImports !== 0) {
    throw new Error(
      `the store after ${storeImports} imports holds ${objects.files} objects of ${objects.bytes} B (the tree: ${files} files of ${made.bytes} B; ` +
        `new bytes: first import ${newBytesFirstImport}, later imports ${newBytesLaterImports})`,
    );
  }

  const importSeconds = median(importTimes);
  const cpSeconds = median(cpTimes);
  const reimportSeconds = median(reimports);
  return {
    files,
    dirs: made.dirs,
    sourceBytes: made.bytes,
    importSeconds: round(importSeconds, 3),
    cpSeconds: round(cpSeconds, 3),
    ratioImportOverCp: round(importSeconds / cpSeconds, 2),
    importSecondsAll: importTimes.map((x) => round(x, 3)),
    cpSecondsAll: cpTimes.map((x) => round(x, 3)),
    reimportSeconds: round(reimportSeconds, 3),
    ratioReimportOverCp: round(reimportSeconds / cpSeconds, 2),
    storeImports,
    storeDiskKiB: store.diskKiB,
    copyDiskKiB: copy.diskKiB,
    ratioStoreOverCopy: round(store.diskKiB / copy.diskKiB, 3),
    storeApparentBytes: store.apparentBytes,
    copyApparentBytes: copy.apparentBytes,
    ratioStoreOverCopyApparent: round(store.apparentBytes / copy.apparentBytes, 3),
    storeObjects: objects.files,
    storeObjectBytes: objects.bytes,
    storeDirs: objects.dirs,
    copyDirs: copied.dirs,
    storeFileDiskKiB: objects.fileDiskKiB,
    copyFileDiskKiB: copied.fileDiskKiB,
    ratioStoreOverCopyFilesOnly: round(objects.fileDiskKiB / copied.fileDiskKiB, 3),
    newBytesFirstImport,
    newBytesLaterImports,
  };
}

export async function projectCopyBench(size: ProjectCopySize): Promise<BenchOutput> {
  const trees: Record<string, TreeFigures> = {};
  const rows: Row[] = [];
  for (const spec of size.trees) {
    const files = spec.files;
    const t = await measureTree(spec, size.dirs);
    trees[String(files)] = t;
    const tree = `${files.toLocaleString('en-US')} files`;
    rows.push(
      {
        metric: `${tree}: import (list, hash, store, copy)`,
        value: `${fmt(t.importSeconds, 2)} s`,
        baseline: `${fmt(t.cpSeconds, 2)} s cp -r`,
        ratio: ratio(t.importSeconds, t.cpSeconds),
        note: `median of ${spec.repeats}; ${t.dirs} dirs, ${fmt(t.sourceBytes / 2 ** 20, 1)} MiB; empty store`,
      },
      {
        metric: `${tree}: import again (store has every file)`,
        value: `${fmt(t.reimportSeconds, 2)} s`,
        baseline: `${fmt(t.cpSeconds, 2)} s cp -r`,
        ratio: ratio(t.reimportSeconds, t.cpSeconds),
        note: `median of imports 2..${spec.storeImports} into one store`,
      },
      {
        metric: `${tree}: store after ${spec.storeImports} imports`,
        value: `${fmt(t.storeDiskKiB / 1024, 1)} MiB`,
        baseline: `${fmt(t.copyDiskKiB / 1024, 1)} MiB one copy`,
        ratio: `${fmt(t.ratioStoreOverCopy, 3)}×`,
        note:
          `du of INFTY_HOME/objects vs du of one cp -r copy; files alone ${fmt(t.ratioStoreOverCopyFilesOnly, 3)}× (dirs: store ${t.storeDirs}, copy ${t.copyDirs}); ` +
          `${t.storeObjects} objects, ${t.storeObjectBytes} B (source ${t.sourceBytes} B); imports 2..${spec.storeImports} stored ${t.newBytesLaterImports} B`,
      },
    );
  }
  const required = size.trees
    .map((t) => t.files)
    .flatMap((n) => [`trees.${n}.ratioImportOverCp`, `trees.${n}.ratioStoreOverCopy`, `trees.${n}.importSeconds`, `trees.${n}.cpSeconds`]);
  return { rows, data: { source: 'plain directory (no .git), files of distinct content', trees }, required };
}
