/**
 * Issue 23: a project run of 2,000 files or more snapshots its turns from the worker's watcher
 * (docs/architecture.md decision 13) — through the real workflow, with the Solver's commands in
 * bubblewrap — and what those snapshots record is what a fork and `infty diff --at-turn` give back.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotTurn } from '../../src/activities/snapshots';
import { watcherOf } from '../../src/activities/snapshotWatch';
import { manifestPath, readSnapshot } from '../../src/host/snapshotManifest';
import { runCli } from '../support/cli';
import { uniqueId, usePerRunHarness } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { askDirection, deliver, directive, shell, tools, verdict } from '../support/replies';

const FILES = 2_100;

/** Every file under `root`: relative path → content. */
function files(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

describe('snapshots of a big project run', () => {
  const t = usePerRunHarness();
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infty-bigproj-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("turns 2 and 3 come from the watcher's change set; a fork and diff --at-turn of a delta turn hold exactly that turn's files", async () => {
    const source = join(work, 'source');
    for (let i = 0; i < FILES; i++) {
      const dir = join(source, 'src', `d${i % 21}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
    }
    const runId = uniqueId('bigproj');
    t.scripts.set(
      runId,
      scriptByRole({
        solver: [
          tools(shell('echo "turn one" >> src/d1/f1.txt')),
          askDirection('question-1'),
          tools(shell('mv src/d3 src/d3-moved && echo "turn two" >> src/d5/f5.txt && mkdir -p made/deep && echo new > made/deep/n.txt && rm src/d7/f7.txt')),
          askDirection('question-2'),
          tools(shell('echo "turn three" > src/d3-moved/f3.txt && chmod 755 src/d9/f9.txt')),
          deliver('.'),
        ],
        director: [directive('directive-1'), directive('directive-2')],
        'verifier*': [verdict('pass')],
      }),
    );
    const r = await runCli(['run', '--from', source, '--run-id', runId, '--verifier', 'a', '--json', 'Change some files'], t.env, 240_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).status).toBe('delivered');
    const runDir = join(t.h.runsRoot, runId);

    // How each turn's snapshot found its files, from the run's history.
    const scans: Record<number, string> = {};
    for (const e of (await t.h.client.workflow.getHandle(runId).fetchHistory()).events ?? []) {
      const data = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
      if (!data?.length) continue; // a void result
      const result = JSON.parse(Buffer.from(data).toString('utf8'));
      if (result && typeof result === 'object' && 'newBytes' in result && 'turn' in result) scans[result.turn] = result.scan;
    }
    expect(scans).toEqual({ 1: 'tree', 2: 'changes', 3: 'changes' });
    expect(watcherOf(t.h.home, runId, runDir)).toBeDefined();
    for (const k of [2, 3]) expect(JSON.parse(readFileSync(manifestPath(t.h.home, runId, k), 'utf8')), `turn ${k}`).toMatchObject({ parent: k - 1 });

    // The last turn's manifest lists what a fresh snapshot of the run directory lists.
    const freshHome = join(work, 'fresh-home');
    await snapshotTurn({ runId: 'fresh', runDir, turn: 1, roles: {} }, freshHome);
    const key = (m: Awaited<ReturnType<typeof readSnapshot>>) => m!.files.map((f) => `${f.path} ${f.sha256} ${f.mode} ${f.link ?? ''}`).sort();
    expect(key(await readSnapshot(t.h.home, runId, 3))).toEqual(key(await readSnapshot(freshHome, 'fresh', 1)));

    // A fork at turn 2 (a delta) starts from turn 2's files.
    const turn2 = files(join(runDir, 'project'));
    turn2['src/d3-moved/f3.txt'] = 'file 3\n'; // turn 3's change undone: as it was after turn 2
    const fork = uniqueId('bigproj-fork');
    t.scripts.set(fork, scriptByRole({ solver: [deliver('.')], 'verifier*': [verdict('pass')] }));
    const f = await runCli(['fork', runId, '--at-turn', '2', '--run-id', fork, '--json'], t.env, 240_000);
    expect(f.code, f.stderr).toBe(0);
    const forked = files(join(t.h.runsRoot, fork, 'project'));
    expect(Object.keys(forked).length).toBe(FILES); // one deleted, one created
    expect(forked).toEqual(turn2);
    expect(statSync(join(t.h.runsRoot, fork, 'project', 'src', 'd9', 'f9.txt')).mode & 0o777).not.toBe(0o755);

    // infty diff --at-turn 2: that turn's change against the base, not turn 3's.
    const at2 = await runCli(['diff', runId, '--at-turn', '2', '--stat'], t.env);
    expect(at2.code, at2.stderr).toBe(0);
    expect(at2.stdout).toContain('made/deep/n.txt');
    expect(at2.stdout).toContain('src/d7/f7.txt');
    expect(at2.stdout).toContain('src/d5/f5.txt');
    expect(at2.stdout).not.toContain('d9/f9.txt');
    const at3 = await runCli(['diff', runId, '--at-turn', '3', '--stat'], t.env);
    expect(at3.stdout).toContain('d9/f9.txt');
  }, 300_000);
});
