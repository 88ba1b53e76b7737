/**
 * The order of system calls behind a durable write (docs/architecture.md decision 10), read from
 * strace: the data is fdatasynced before the rename that publishes it, the directory is fsynced
 * after the rename, and the write's promise resolves only after both (the calls run on a disk
 * thread, src/activities/durable/diskThreads.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Call {
  name: string;
  args: string;
  result: string;
  start: number;
  end: number;
}

/** strace -f output as calls with the line numbers where each started and returned. */
function parse(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  text.split('\n').forEach((line, i) => {
    const m = /^(\d+) +(.*)$/.exec(line); // strace pads short PIDs with spaces
    if (!m) return;
    const [, pid, rest] = m as unknown as [string, string, string];
    const resumed = /^<\.\.\. (\w+) resumed>(.*)\) += (.*)$/.exec(rest);
    if (resumed) {
      const call = open.get(`${pid}:${resumed[1]}`);
      if (call) {
        call.args += resumed[2];
        call.result = resumed[3]!;
        call.end = i;
        open.delete(`${pid}:${resumed[1]}`);
      }
      return;
    }
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      const call = { name: unfinished[1]!, args: unfinished[2]!, result: '', start: i, end: Number.POSITIVE_INFINITY };
      calls.push(call);
      open.set(`${pid}:${call.name}`, call);
      return;
    }
    const whole = /^(\w+)\((.*)\) += (.*)$/.exec(rest);
    if (whole) calls.push({ name: whole[1]!, args: whole[2]!, result: whole[3]!, start: i, end: i });
  });
  return calls;
}

function traced(script: string): { calls: Call[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'infty-syscalls-'));
  dirs.push(dir);
  const out = join(dir, 'strace.txt');
  const run = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-e',
      'trace=openat,write,fdatasync,fsync,rename,renameat,renameat2',
      '-o',
      out,
      process.execPath,
      '-r',
      './test/unit/support/tsRequire.cjs',
      '-e',
      script,
      dir,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (run.error) throw new Error(`this test needs strace on PATH (apt-get install strace): ${run.error.message}`);
  expect(run.status, run.stderr).toBe(0);
  const text = readFileSync(out, 'utf8');
  traces.set(dir, `${run.stdout}${run.stderr}\n${text}`);
  return { calls: parse(text), dir };
}

/** Each traced directory's child output and strace text, shown when an expected call is missing. */
const traces = new Map<string, string>();
const fdOf = (c: Call) => Number(c.result.split(' ')[0]);
const find = (calls: Call[], after: number, pred: (c: Call) => boolean, what: string): Call => {
  const hit = calls.find((c) => c.start > after && pred(c));
  if (!hit) throw new Error(`no ${what} after line ${after} in:\n${[...traces.values()].at(-1)?.slice(0, 20_000)}`);
  return hit;
};
const marker = (calls: Call[], text: string) => find(calls, -1, (c) => c.name === 'write' && c.args.startsWith(`1, "${text}`), `marker ${text}`);

function expectReplacedDurably(calls: Call[], dir: string, name: string, done: string) {
  const tmp = join(dir, `.${name}.tmp`);
  const opened = find(calls, -1, (c) => c.name === 'openat' && c.args.includes(`"${tmp}"`), `open of ${tmp}`);
  const fd = fdOf(opened);
  const wrote = find(calls, opened.start, (c) => c.name === 'write' && c.args.startsWith(`${fd}, `), 'data write');
  const synced = find(calls, wrote.start, (c) => (c.name === 'fdatasync' || c.name === 'fsync') && c.args === String(fd), `fdatasync(${fd})`);
  const renamed = find(
    calls,
    opened.start,
    (c) => c.name.startsWith('rename') && c.args.includes(`"${tmp}"`) && c.args.includes(`"${join(dir, name)}"`),
    'rename',
  );
  expect(synced.result).toBe('0');
  expect(synced.end, 'the data reaches the disk before the rename publishes it').toBeLessThan(renamed.start);
  const dirOpened = find(calls, renamed.end, (c) => c.name === 'openat' && c.args.includes(`"${dir}"`), 'open of the directory');
  const dirSynced = find(calls, dirOpened.start, (c) => c.name === 'fsync' && c.args === String(fdOf(dirOpened)), 'fsync of the directory');
  expect(dirSynced.result).toBe('0');
  expect(dirSynced.end, 'the write resolves only after the directory entry is durable').toBeLessThan(marker(calls, done).start);
}

describe('durable writes, as system calls', () => {
  it('reads strace lines whatever the width of their PIDs, split calls included', () => {
    const calls = parse(
      [
        '944   openat(AT_FDCWD, "/d/.f.tmp", O_WRONLY|O_CREAT, 0666) = 20',
        '12345 fdatasync(20 <unfinished ...>',
        '944   rename("/d/.f.tmp", "/d/f") = 0',
        '12345 <... fdatasync resumed>) = 0',
      ].join('\n'),
    );
    expect(calls.map((c) => [c.name, c.start, c.end, c.result])).toEqual([
      ['openat', 0, 0, '20'],
      ['fdatasync', 1, 3, '0'],
      ['rename', 2, 2, '0'],
    ]);
  });

  it.each([
    ['a small file', 100],
    ['a 1 MiB file', 1024 * 1024],
  ])('writeFileDurable of %s: fdatasync, then rename, then the directory fsync, then resolve', (_what, bytes) => {
    const { calls, dir } = traced(
      `const f = require('./src/activities/durable/files'); const d = process.argv[1];
       f.writeFileDurable(d + '/run.json', 'x'.repeat(${bytes})).then(() => console.log('replaced'));`,
    );
    expectReplacedDurably(calls, dir, 'run.json', 'replaced');
  });

  it.each([
    ['a small append', 100],
    ['a 1 MiB append', 1024 * 1024],
  ])('appendDurable, %s to a new file: the data and the new directory entry are synced before it resolves', (_what, bytes) => {
    const { calls, dir } = traced(
      `const f = require('./src/activities/durable/files'); const d = process.argv[1];
       f.appendDurable(d + '/t.jsonl', 'y'.repeat(${bytes})).then(() => console.log('first'))
        .then(() => f.appendDurable(d + '/t.jsonl', 'z')).then(() => console.log('second'));`,
    );
    const path = join(dir, 't.jsonl');
    const opens = calls.filter((c) => c.name === 'openat' && c.args.includes(`"${path}"`));
    expect(opens, traces.get(dir)).toHaveLength(2);
    for (const [opened, done] of [
      [opens[0]!, 'first'],
      [opens[1]!, 'second'],
    ] as const) {
      const fd = fdOf(opened);
      const wrote = find(calls, opened.start, (c) => c.name === 'write' && c.args.startsWith(`${fd}, `), 'append');
      const synced = find(calls, wrote.start, (c) => c.name === 'fdatasync' && c.args === String(fd), `fdatasync(${fd})`);
      expect(synced.result).toBe('0');
      expect(synced.end).toBeLessThan(marker(calls, done).start);
    }
    // Only the first append created the file: its directory entry is synced before 'first'.
    const dirSync = find(calls, opens[0]!.start, (c) => c.name === 'fsync', 'directory fsync');
    expect(dirSync.end).toBeLessThan(marker(calls, 'first').start);
    expect(calls.filter((c) => c.name === 'fsync' && c.start > marker(calls, 'first').start)).toHaveLength(0);
  });
});
