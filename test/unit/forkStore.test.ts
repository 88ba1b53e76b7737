/** Shared transcript prefixes and the content-addressed turn snapshots of forks (docs/architecture.md decision 13). */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materializeFork } from '../../src/activities/forkRun';
import { objectPath, readManifest, snapshotTurn } from '../../src/activities/snapshots';
import { prefixLine } from '../../src/activities/transcriptPrefix';
import { commitItems, readTranscript, transcriptPath } from '../../src/activities/transcripts';
import type { TranscriptItem } from '../../src/protocol/items';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'infty-fork-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const msg = (text: string): TranscriptItem => ({ type: 'message', role: 'user', text });

describe('shared transcript prefixes', () => {
  it('resolves forks of forks, keeps the prefix one line when writing, refuses to cut into it', async () => {
    const a = transcriptPath(home, 'a', 'solver', 0);
    await commitItems(a, 0, [msg('a1'), msg('a2'), msg('a3')], 1);
    const b = transcriptPath(home, 'b', 'solver', 0);
    mkdirSync(join(home, 'transcripts', 'b'), { recursive: true });
    writeFileSync(b, `${prefixLine({ run: 'a', role: 'solver', generation: 0, lines: 2 })}\n`);
    expect(await commitItems(b, 2, [msg('b3')], 1)).toEqual([msg('a1'), msg('a2'), msg('b3')]);
    const c = transcriptPath(home, 'c', 'solver', 0);
    mkdirSync(join(home, 'transcripts', 'c'), { recursive: true });
    writeFileSync(c, `${prefixLine({ run: 'b', role: 'solver', generation: 0, lines: 3 })}\n`);
    await commitItems(c, 3, [msg('c4'), msg('c5')], 1);
    // a torn tail is cut, the prefix line stays
    await commitItems(c, 4, [msg('c5bis')], 1);
    expect(await readTranscript(c)).toEqual([msg('a1'), msg('a2'), msg('b3'), msg('c4'), msg('c5bis')]);
    expect(readFileSync(c, 'utf8').split('\n')[0]).toContain('"type":"prefix"');
    expect(readFileSync(c, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    await expect(commitItems(c, 2, [msg('x')], 1)).rejects.toThrow(/shared prefix/);
    expect(await readTranscript(a)).toEqual([msg('a1'), msg('a2'), msg('a3')]);
  });
});

describe('turn snapshots', () => {
  it('stores each content once, skips unchanged files, and a fork restores the turn', async () => {
    const runDir = join(home, 'runs', 'src');
    mkdirSync(join(runDir, 'sub'), { recursive: true });
    writeFileSync(join(runDir, 'x.txt'), 'same');
    writeFileSync(join(runDir, 'sub', 'y.txt'), 'same');
    writeFileSync(join(runDir, 'run.json'), '{}');
    const roles = { solver: { generation: 0, committedLength: 2 } };
    const t1 = await snapshotTurn({ runId: 'src', runDir, turn: 1, roles }, home);
    expect(t1).toMatchObject({ turn: 1, files: 2, bytes: 8, newBytes: 4 });
    writeFileSync(join(runDir, 'z.txt'), 'later');
    utimesSync(join(runDir, 'x.txt'), new Date(), new Date(Date.now() + 5000));
    const t2 = await snapshotTurn({ runId: 'src', runDir, turn: 2, roles }, home);
    expect(t2).toMatchObject({ files: 3, newBytes: 5 });
    const m1 = (await readManifest(home, 'src', 1))!;
    expect(m1.files.map((f) => f.path)).toEqual(['sub/y.txt', 'x.txt']);
    expect(statSync(objectPath(home, m1.files[0]!.sha256)).size).toBe(4);
    expect(readdirSync(join(home, 'objects')).filter((d) => d !== 'tmp')).toHaveLength(2);

    await commitItems(transcriptPath(home, 'src', 'solver', 0), 0, [msg('s1'), msg('s2'), msg('s3')], 1);
    const forkDir = join(home, 'runs', 'f');
    const positions = await materializeFork(home, forkDir, 'f', { runId: 'src', turn: 1 }, ['solver', 'director']);
    expect(positions).toEqual(roles);
    expect(readdirSync(forkDir).sort()).toEqual(['sub', 'x.txt']);
    expect(readFileSync(join(forkDir, 'sub', 'y.txt'), 'utf8')).toBe('same');
    expect(await readTranscript(transcriptPath(home, 'f', 'solver', 0))).toEqual([msg('s1'), msg('s2')]);
    await expect(materializeFork(home, join(home, 'runs', 'g'), 'g', { runId: 'src', turn: 9 }, ['solver'])).rejects.toThrow(/no snapshot of Solver turn 9/);
  });
});
