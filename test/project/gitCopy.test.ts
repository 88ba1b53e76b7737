/** The copy's own repository (docs/behaviour.md §4.4): HEAD and branches as in the user's checkout, no way back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloneForCopy, cloneFromUrl } from '../../src/activities/project/gitCopy';
import { gitIn, makeRepo, treeFingerprint } from '../support/gitRepo';

const work = mkdtempSync(join(tmpdir(), 'infty-gitcopy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tick = () => undefined;

function repoWithBranches(name: string): { dir: string; first: string; second: string } {
  const dir = join(work, name);
  makeRepo(dir, { 'a.txt': 'one\n' });
  const first = gitIn(dir, 'rev-parse', 'HEAD');
  gitIn(dir, 'checkout', '-q', '-b', 'feature-x');
  gitIn(dir, 'commit', '-q', '--allow-empty', '-m', 'feature work');
  gitIn(dir, 'checkout', '-q', 'main');
  gitIn(dir, 'commit', '-q', '--allow-empty', '-m', 'second');
  return { dir, first, second: gitIn(dir, 'rev-parse', 'HEAD') };
}

describe("the copy's repository", () => {
  it("is on the user's branch, keeps every local branch, has no remote, and leaves the source untouched", async () => {
    const { dir, second } = repoWithBranches('on-branch');
    const before = treeFingerprint(dir);
    const dest = join(work, 'copy-1');
    expect(await cloneForCopy(dir, dest, tick)).toEqual({ commit: second, branch: 'main' });
    expect(gitIn(dest, 'log', '--format=%s', 'feature-x')).toBe('feature work\ninitial');
    expect(gitIn(dest, 'branch', '--format=%(refname:short)').split('\n').sort()).toEqual(['feature-x', 'main']);
    expect(gitIn(dest, 'remote')).toBe('');
    expect(treeFingerprint(dir)).toEqual(before);
  });

  it('is detached where the user is detached, at the same commit, even at a branch tip', async () => {
    const { dir, second } = repoWithBranches('detached');
    gitIn(dir, 'checkout', '-q', '--detach', 'main');
    const dest = join(work, 'copy-2');
    expect(await cloneForCopy(dir, dest, tick)).toEqual({ commit: second, branch: null });
    expect(gitIn(dest, 'rev-parse', 'HEAD')).toBe(second);
    expect(gitIn(dest, 'log', '--format=%s', 'feature-x')).toBe('feature work\ninitial');
  });

  it('a clone from a URL checks out a branch as that branch and keeps the others', async () => {
    const { dir } = repoWithBranches('origin');
    const bare = join(work, 'origin.git');
    gitIn(work, 'clone', '-q', '--bare', dir, bare);
    const dest = join(work, 'copy-3');
    const state = await cloneFromUrl(bare, 'feature-x', dest, tick);
    expect(state.branch).toBe('feature-x');
    expect(gitIn(dest, 'log', '--format=%s', '-1')).toBe('feature work');
    expect(gitIn(dest, 'log', '--format=%s', '-1', 'main')).toBe('second');
    expect(gitIn(dest, 'remote')).toBe('');
  });
});

describe('the change summary', () => {
  it('lists renames, binary files and names with newlines and tabs as one entry each', async () => {
    const { summarizeChange } = await import('../../src/host/project/changes');
    const { writeFileSync, renameSync } = await import('node:fs');
    const dir = join(work, 'summary');
    makeRepo(dir, { 'old name.txt': 'a\nb\nc\nd\ne\n', 'keep.txt': 'x\n' });
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 0, 3]));
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-qm', 'two');
    const from = gitIn(dir, 'rev-parse', 'HEAD^{tree}');
    renameSync(join(dir, 'old name.txt'), join(dir, 'new\nname.txt'));
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0, 9, 9, 0]));
    writeFileSync(join(dir, 'tab\there.txt'), 'one\ntwo\n');
    gitIn(dir, 'add', '-A');
    gitIn(dir, 'commit', '-qm', 'three');
    const to = gitIn(dir, 'rev-parse', 'HEAD^{tree}');
    const home = join(work, 'summary-home');
    gitIn(work, 'clone', '-q', '--bare', dir, join(home, 'git'));
    const summary = await summarizeChange(home, from, to);
    expect(summary.files).toEqual(
      expect.arrayContaining([
        { path: 'bin.dat', status: 'modified', added: null, removed: null },
        { path: 'old name.txt → new\nname.txt', status: 'renamed', added: 0, removed: 0 },
        { path: 'tab\there.txt', status: 'added', added: 2, removed: 0 },
      ]),
    );
    expect(summary.files).toHaveLength(3);
    expect(summary).toMatchObject({ added: 2, removed: 0, more: 0 });
  });
});
