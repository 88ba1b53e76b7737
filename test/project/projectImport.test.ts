/**
 * Issue 18, attacked: what `infty run --from PATH` / `--from-git URL[#REF]` promise about the copy a
 * project run starts from (docs/behaviour.md §4.3). Which files are copied (the default ignore
 * list, git's rules, modes, symlinks in and out of the project), where the Solver works, what a
 * ref selects, every refusal (exit 2, a message saying what to do, nothing left behind: no run
 * directory, no staging directory, no base record), and a 50,000-file tree stored once.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BaseManifest } from '../../src/host/project/base';
import type { ProjectRecord } from '../../src/protocol/project';
import { type CliResult, runCli } from '../support/cli';
import type { RecordedRequest } from '../support/fakeModel';
import { gitIn, makeRepo, treeFingerprint, writeTree } from '../support/gitRepo';
import { uniqueId, usePerRunHarness } from '../support/harness';
import { type ScriptEntry, scriptByRole } from '../support/modelScript';
import { deliver, shell, tools, verdict } from '../support/replies';

const IS_ROOT = process.getuid?.() === 0;
/** An unprivileged account for the permission cases (root reads a mode-000 file). */
const NOBODY = 65534;
const SECRET = 'TOP-SECRET-OUTSIDE-THE-PROJECT';

// ---------------------------------------------------------------------------------------------
// Helpers

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const lastJsonLine = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').pop()!) as T;

/** The function_call_output texts of a Responses request, in order (a shell result's `output` field unwrapped). */
function toolOutputs(req: RecordedRequest): string[] {
  return (req.body.input as { type: string; output?: string }[])
    .filter((i) => i.type === 'function_call_output')
    .map((i) => {
      try {
        const parsed = JSON.parse(i.output ?? '') as { output?: unknown };
        return typeof parsed.output === 'string' ? parsed.output : i.output!;
      } catch {
        return i.output!;
      }
    });
}

/** The fingerprint of a tree less its top-level .git (the copy's own repository). */
function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeFingerprint(dir)).filter(([p]) => p !== '.git' && !p.startsWith('.git/')));
}

/** Objects in the content-addressed store (INFTY_HOME/objects/<2 hex>/<sha256>). */
function countObjects(home: string): number {
  const root = join(home, 'objects');
  if (!existsSync(root)) return 0;
  let n = 0;
  for (const dir of readdirSync(root)) {
    if (!/^[0-9a-f]{2}$/.test(dir)) continue;
    n += readdirSync(join(root, dir)).filter((f) => /^[0-9a-f]{64}$/.test(f)).length;
  }
  return n;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A refusal left nothing: no run directory, no staging directory, no base record. */
function expectNothingLeft(runsRoot: string, home: string, runId: string): void {
  expect(existsSync(join(runsRoot, runId)), `run directory of ${runId}`).toBe(false);
  expect(existsSync(join(runsRoot, '.staging', runId)), `staging directory of ${runId}`).toBe(false);
  expect(existsSync(join(home, 'projects', runId)), `base record of ${runId}`).toBe(false);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * `infty` run by an unprivileged user (as root: uid nobody) with its own INFTY_HOME, runs root and
 * task queue, so the worker that reads the project is the CLI's embedded one, under that uid: a
 * mode-000 file really is unreadable to it.
 */
function runCliUnprivileged(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return runCli(args, env, timeoutMs, IS_ROOT ? { asUser: NOBODY } : {});
}

interface StartedRun {
  runId: string;
  runDir: string;
  project: string;
  record: ProjectRecord;
  base: BaseManifest;
  solverRequests: RecordedRequest[];
  outcome: { status: string; deliverablePath: string };
}

// ---------------------------------------------------------------------------------------------

describe('project import', () => {
  const t = usePerRunHarness();
  let work: string;
  const savedEnv = { files: process.env.INFTY_PROJECT_MAX_FILES, bytes: process.env.INFTY_PROJECT_MAX_BYTES };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infty-import-'));
    writeFileSync(join(work, 'secret.txt'), `${SECRET}\n`);
  });
  afterEach(() => {
    for (const [name, value] of [
      ['INFTY_PROJECT_MAX_FILES', savedEnv.files],
      ['INFTY_PROJECT_MAX_BYTES', savedEnv.bytes],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(() => {
    if (work) {
      execFileSync('chmod', ['-R', 'u+rwX', work]);
      rmSync(work, { recursive: true, force: true });
    }
  }, 600_000);

  /**
   * `infty run --from/--from-git SOURCE` with a scripted Solver (`solver`, then a delivery of its
   * working directory, or of `opts.deliverPath`) and one passing verifier; expects delivery.
   */
  async function deliveredRun(source: string[], solver: ScriptEntry[] = [], opts: { deliverPath?: string; timeoutMs?: number } = {}): Promise<StartedRun> {
    const runId = uniqueId('imp');
    const timeoutMs = opts.timeoutMs ?? 180_000;
    t.scripts.set(runId, scriptByRole({ solver: [...solver, deliver(opts.deliverPath ?? '.', 'done')], 'verifier*': [verdict('pass')] }));
    const r = await runCli(['run', ...source, '--run-id', runId, '--verifier', 'a', '--sandbox', 'none', '--json', 'Look at the project'], t.env, timeoutMs);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const outcome = lastJsonLine<StartedRun['outcome']>(r.stdout);
    expect(outcome.status).toBe('delivered');
    const runDir = join(t.h.runsRoot, runId);
    return {
      runId,
      runDir,
      project: join(runDir, 'project'),
      record: readJson<{ project: ProjectRecord }>(join(runDir, 'run.json')).project,
      base: readJson<BaseManifest>(join(t.h.home, 'projects', runId, 'base.json')),
      solverRequests: t.h.model.requests.filter((q) => q.runId === runId && q.role === 'solver'),
      outcome,
    };
  }

  /** `infty run ARGS` that must be refused with exit 2 (the run id is returned for the nothing-left checks). */
  async function refusedRun(args: string[]): Promise<{ runId: string; r: CliResult }> {
    const runId = uniqueId('ref');
    t.scripts.set(runId, scriptByRole({}));
    const r = await runCli(['run', ...args, '--run-id', runId, '--verifier', 'a', '--sandbox', 'none', 'Look at the project'], t.env, 120_000);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2);
    // The Solver was never asked anything: the refusal came before the run started working.
    expect(t.h.model.requests.filter((q) => q.runId === runId)).toEqual([]);
    return { runId, r };
  }

  // -------------------------------------------------------------------------------------------
  describe('a directory that is not a git work tree', () => {
    it('copies everything but the default ignore list, dot-files and modes included; the diff shows only the Solver’s change', async () => {
      const src = join(work, 'plain');
      writeTree(src, {
        'README.md': '# plain\n',
        '.env.example': 'API_URL=http://localhost\n',
        '.hidden/config': 'hidden=1\n',
        'src/main.js': 'console.log("one");\n',
        'src/build.txt': 'a file whose name starts like an ignored directory\n',
        'src/__pycache__/main.cpython-311.pyc': 'bytecode\n',
        'lib/mod.py': 'x = 1\n',
        'lib/mod.pyc': 'bytecode\n',
        'docs/guide.md': 'guide\n',
        'docs/.DS_Store': 'finder\n',
        '.DS_Store': 'finder\n',
        'bin/tool.sh': '#!/bin/sh\necho tool\n',
        'private.key': 'key\n',
        'node_modules/dep/index.js': 'module.exports = 1;\n',
        'packages/a/node_modules/x/i.js': 'nested dependency\n',
        '.venv/bin/python': 'not really python\n',
        'dist/out.js': 'built\n',
        'build/out.o': 'object\n',
        'target/debug/app': 'binary\n',
        'coverage/lcov.info': 'coverage\n',
        '.cache/blob': 'cache\n',
      });
      chmodSync(join(src, 'bin/tool.sh'), 0o755);
      chmodSync(join(src, 'private.key'), 0o600);
      mkdirSync(join(src, 'empty'));
      const userBefore = treeFingerprint(src);
      const copied = [
        '.env.example',
        '.hidden/config',
        'README.md',
        'bin/tool.sh',
        'docs/guide.md',
        'lib/mod.py',
        'private.key',
        'src/build.txt',
        'src/main.js',
      ];
      // The file limit counts what is copied, not what the ignore list leaves out: exactly at it passes.
      process.env.INFTY_PROJECT_MAX_FILES = String(copied.length);

      const run = await deliveredRun(
        ['--from', src],
        [
          tools(
            shell(
              "printf 'console.log(\"two\");\\n' > src/main.js && printf 'new\\n' > src/new.js && " +
                'mkdir -p node_modules/newdep dist && echo dep > node_modules/newdep/index.js && echo b > dist/bundle.js && echo c > lib/extra.pyc',
            ),
          ),
        ],
      );

      // The base: exactly the files that are not ignored, with their bytes and modes.
      expect(run.base.files.map((f) => f.path)).toEqual(copied);
      expect(run.record).toMatchObject({
        root: run.project,
        workdir: run.project,
        files: copied.length,
        commit: null,
        branch: null,
        skippedLinks: [],
        source: { kind: 'path', path: src, gitTopLevel: null },
      });
      for (const f of run.base.files) {
        expect(f.sha256, f.path).toBe(sha256(readFileSync(join(src, f.path))));
        expect(f.mode, f.path).toBe(statSync(join(src, f.path)).mode & 0o777);
      }
      // The copy now: the base plus what the Solver wrote; none of the ignored source files came along.
      const copy = filesOf(run.project);
      const solverWrote = ['dist/bundle.js', 'lib/extra.pyc', 'node_modules/newdep/index.js', 'src/new.js'];
      expect(Object.keys(copy).sort()).toEqual([...copied, ...solverWrote].sort());
      for (const p of copied.filter((p) => p !== 'src/main.js')) expect(copy[p], p).toBe(userBefore[p]);
      expect(statSync(join(run.project, 'bin/tool.sh')).mode & 0o777).toBe(0o755);
      expect(statSync(join(run.project, 'private.key')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(run.project, '.env.example'), 'utf8')).toBe('API_URL=http://localhost\n');
      expect(existsSync(join(run.project, '.git')), 'a plain directory gets no repository').toBe(false);

      // infty diff: the Solver's edit and new file; what it wrote where the ignore list applies is not part of the change.
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout.match(/^diff --git .*$/gm)).toEqual(['diff --git a/src/main.js b/src/main.js', 'diff --git a/src/new.js b/src/new.js']);
      expect(d.stdout).toContain('-console.log("one");\n+console.log("two");');
      for (const absent of ['node_modules', 'dist/bundle.js', 'extra.pyc']) expect(d.stdout).not.toContain(absent);

      expect(treeFingerprint(src)).toEqual(userBefore);
    }, 180_000);

    it('copies file names with a newline, a tab, spaces and non-ASCII letters; the change is computed and shown', async () => {
      const src = join(work, 'names');
      const odd = ['line\nbreak.txt', 'tab\there.txt', 'naïve café.md'];
      writeTree(src, { 'plain.txt': 'v1\n', ...Object.fromEntries(odd.map((n) => [n, `${n.length}\n`])) });
      const run = await deliveredRun(['--from', src], [tools(shell('echo v2 > plain.txt'))]);
      expect(run.base.files.map((f) => f.path).sort()).toEqual([...odd, 'plain.txt'].sort());
      for (const n of odd) expect(readFileSync(join(run.project, n), 'utf8'), JSON.stringify(n)).toBe(`${n.length}\n`);
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout.match(/^diff --git .*$/gm)).toEqual(['diff --git a/plain.txt b/plain.txt']);
    }, 120_000);

    it('skips special files (a FIFO, a socket) instead of reading them', async () => {
      const src = join(work, 'special');
      writeTree(src, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' });
      execFileSync('mkfifo', [join(src, 'pipe')]);
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(join(src, 'sub', 'sock'), resolve));
      try {
        const run = await deliveredRun(['--from', src]);
        expect(run.base.files.map((f) => f.path)).toEqual(['a.txt', 'sub/b.txt']);
        expect(readdirSync(run.project).sort()).toEqual(['a.txt', 'sub']);
        expect(readdirSync(join(run.project, 'sub'))).toEqual(['b.txt']);
      } finally {
        server.close();
      }
    }, 120_000);
  });

  // -------------------------------------------------------------------------------------------
  describe('symbolic links', () => {
    it('keeps links inside the project (absolute ones made relative), leaves out links pointing outside, and the Solver cannot read outside through the copy', async () => {
      const src = join(work, 'links');
      writeTree(src, { 'README.md': '# links\n', 'docs/guide.md': 'the guide\n' });
      const links: [string, string][] = [
        ['link-rel', 'docs/guide.md'],
        ['docs/up', '../README.md'],
        ['docs/dir-up', '..'],
        ['dir-link', 'docs'],
        ['dangling', 'missing.txt'],
        ['abs-file', join(src, 'docs/guide.md')],
        ['docs/abs-readme', join(src, 'README.md')],
        ['abs-root', src],
        ['escape-rel', '../secret.txt'],
        ['docs/escape-rel2', '../../secret.txt'],
        ['escape-sneaky', 'docs/../../secret.txt'],
        ['escape-abs', join(work, 'secret.txt')],
        ['escape-etc', '/etc/hostname'],
        ['escape-dir', '/etc'],
      ];
      for (const [path, target] of links) symlinkSync(target, join(src, path));
      const userBefore = treeFingerprint(src);

      const run = await deliveredRun(
        ['--from', src],
        [
          tools(
            { name: 'read_file', arguments: { path: 'link-rel' } },
            { name: 'read_file', arguments: { path: 'escape-rel' } },
            { name: 'read_file', arguments: { path: 'docs/escape-rel2' } },
            { name: 'read_file', arguments: { path: 'escape-abs' } },
            { name: 'read_file', arguments: { path: 'escape-dir/hostname' } },
            shell('cat escape-rel docs/escape-rel2 escape-sneaky escape-abs 2>&1; cat abs-file docs/abs-readme'),
          ),
        ],
      );

      const kept: Record<string, string> = {
        'link-rel': 'docs/guide.md',
        'docs/up': '../README.md',
        'docs/dir-up': '..',
        'dir-link': 'docs',
        dangling: 'missing.txt',
        'abs-file': 'docs/guide.md',
        'docs/abs-readme': '../README.md',
        'abs-root': '.',
      };
      for (const [path, target] of Object.entries(kept)) {
        expect(lstatSync(join(run.project, path)).isSymbolicLink(), path).toBe(true);
        expect(readlinkSync(join(run.project, path)), path).toBe(target);
      }
      const outside = ['docs/escape-rel2', 'escape-abs', 'escape-dir', 'escape-etc', 'escape-rel', 'escape-sneaky'];
      for (const path of outside) expect(existsSync(join(run.project, path)) || isLink(join(run.project, path)), path).toBe(false);
      expect(run.record.skippedLinks).toEqual(outside);
      expect(run.base.files.map((f) => f.path).sort()).toEqual(['README.md', 'docs/guide.md', ...Object.keys(kept)].sort());
      expect(run.base.files.find((f) => f.path === 'abs-file')?.link).toBe('docs/guide.md');

      const [inside, ...reads] = toolOutputs(run.solverRequests[1]!);
      expect(inside).toContain('the guide');
      const shellOut = reads.pop()!;
      expect(reads).toHaveLength(4);
      for (const r of reads) {
        expect(r).toMatch(/^Error: /);
        expect(r).not.toContain(SECRET);
      }
      expect(shellOut).not.toContain(SECRET);
      expect(shellOut).toContain('No such file');
      expect(shellOut).toContain('the guide\n# links\n');

      // The Solver changed nothing, so the diff is empty: the links left out are no change.
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toBe('');
      expect(treeFingerprint(src)).toEqual(userBefore);
    }, 180_000);

    it('keeps an absolute link that reaches the project through another path to it (a symlinked ancestor)', async () => {
      // /tmp → /private/tmp on macOS: a tool writes absolute links through the path it was given.
      const realParent = join(work, 'real-parent');
      writeTree(join(realParent, 'proj'), { 'data/v1.json': '{"v":1}\n' });
      const alias = join(work, 'alias-parent');
      symlinkSync(realParent, alias);
      symlinkSync(join(alias, 'proj', 'data', 'v1.json'), join(realParent, 'proj', 'current.json'));
      symlinkSync(join(alias, 'secret-dir'), join(realParent, 'proj', 'outside-through-alias'));
      mkdirSync(join(realParent, 'secret-dir'));

      const run = await deliveredRun(['--from', join(alias, 'proj')]);
      expect(run.record.source).toMatchObject({ kind: 'path', path: join(realParent, 'proj') });
      expect(readlinkSync(join(run.project, 'current.json'))).toBe('data/v1.json');
      expect(readFileSync(join(run.project, 'current.json'), 'utf8')).toBe('{"v":1}\n');
      expect(run.record.skippedLinks).toEqual(['outside-through-alias']);
    }, 120_000);

    it('leaves links pointing outside out of a --from-git clone too, and the diff stays empty', async () => {
      const repo = join(work, 'links-repo');
      makeRepo(repo, { 'README.md': '# r\n' });
      symlinkSync('README.md', join(repo, 'inside'));
      symlinkSync('/etc/hostname', join(repo, 'escape-abs'));
      symlinkSync('../../secret.txt', join(repo, 'escape-rel'));
      gitIn(repo, 'add', '-A');
      gitIn(repo, 'commit', '-qm', 'links');

      const run = await deliveredRun(['--from-git', repo]);
      expect(readlinkSync(join(run.project, 'inside'))).toBe('README.md');
      for (const path of ['escape-abs', 'escape-rel']) expect(isLink(join(run.project, path)), path).toBe(false);
      expect(run.record.skippedLinks).toEqual(['escape-abs', 'escape-rel']);
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toBe('');
    }, 120_000);
  });

  // -------------------------------------------------------------------------------------------
  describe('a git work tree', () => {
    it('copies the work tree as it is: uncommitted, staged, deleted, untracked, ignored (nested .gitignore), force-added', async () => {
      const repo = join(work, 'states');
      makeRepo(repo, {
        '.gitignore': '*.log\nignored-dir/\n',
        'modified.txt': 'v1\n',
        'staged.txt': 'v1\n',
        'deleted.txt': 'gone soon\n',
        'removed.txt': 'git rm soon\n',
        'sub/.gitignore': '*.tmp\n',
        'sub/keep.txt': 'keep\n',
      });
      writeTree(repo, { 'forced.log': 'tracked although ignored\n', 'sub/forced.tmp': 'tracked although ignored\n' });
      gitIn(repo, 'add', '-f', 'forced.log', 'sub/forced.tmp');
      gitIn(repo, 'commit', '-qm', 'force-added');
      const head = gitIn(repo, 'rev-parse', 'HEAD');
      // The user's state.
      writeFileSync(join(repo, 'modified.txt'), 'v2 uncommitted\n');
      writeFileSync(join(repo, 'staged.txt'), 'v2 staged\n');
      gitIn(repo, 'add', 'staged.txt');
      rmSync(join(repo, 'deleted.txt'));
      gitIn(repo, 'rm', '-q', 'removed.txt');
      writeTree(repo, {
        'untracked.txt': 'untracked\n',
        'sub/untracked.txt': 'untracked\n',
        'staged-new.txt': 'added, never committed\n',
        'x.log': 'ignored\n',
        'ignored-dir/y.txt': 'ignored\n',
        'sub/z.tmp': 'ignored by the nested .gitignore\n',
        'sub/deeper/w.tmp': 'ignored by the nested .gitignore\n',
        'local-only.txt': 'ignored by .git/info/exclude\n',
      });
      gitIn(repo, 'add', 'staged-new.txt');
      writeFileSync(join(repo, '.git', 'info', 'exclude'), 'local-only.txt\n');
      const userBefore = treeFingerprint(repo);

      const run = await deliveredRun(['--from', repo], [tools(shell('git status --porcelain'))]);
      const expected = [
        '.gitignore',
        'forced.log',
        'modified.txt',
        'staged-new.txt',
        'staged.txt',
        'sub/.gitignore',
        'sub/forced.tmp',
        'sub/keep.txt',
        'sub/untracked.txt',
        'untracked.txt',
      ];
      const copy = filesOf(run.project);
      expect(Object.keys(copy).sort()).toEqual(expected);
      for (const p of expected) expect(copy[p], p).toBe(userBefore[p]);
      expect(run.base.files.map((f) => f.path)).toEqual(expected);
      expect(run.record).toMatchObject({ commit: head, branch: 'main', files: expected.length, source: { kind: 'path', path: repo, gitTopLevel: repo } });

      // The copy's repository: the user's HEAD, the user's changes uncommitted, no way back to the user's repository.
      expect(gitIn(run.project, 'rev-parse', 'HEAD')).toBe(head);
      expect(gitIn(run.project, 'remote')).toBe('');
      const status = ['?? staged-new.txt', '?? sub/untracked.txt', '?? untracked.txt', ' D deleted.txt', ' D removed.txt', ' M modified.txt', ' M staged.txt'];
      expect(toolOutputs(run.solverRequests[1]!)[0]!.split('\n').filter(Boolean).sort()).toEqual(status.sort());

      // The Solver changed nothing: the user's uncommitted state is the base, not a change.
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toBe('');
      expect(treeFingerprint(repo)).toEqual(userBefore);
    }, 180_000);

    it('a repository with a submodule: its files are copied, its .git link is not, and git works in the copy', async () => {
      const lib = join(work, 'sub-lib');
      makeRepo(lib, { 'lib.txt': 'lib\n' });
      const repo = join(work, 'with-submodule');
      makeRepo(repo, { 'app.txt': 'app\n' });
      gitIn(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, 'vendor/lib');
      gitIn(repo, 'commit', '-qm', 'submodule');

      const run = await deliveredRun(['--from', repo], [tools(shell('git status --porcelain 2>&1; echo "exit $?"'))]);
      expect(Object.keys(filesOf(run.project)).sort()).toEqual(['.gitmodules', 'app.txt', 'vendor/lib/lib.txt']);
      expect(toolOutputs(run.solverRequests[1]!)[0]).toBe('exit 0\n');
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toBe('');
    }, 120_000);

    it('--from a subdirectory copies the whole repository and the Solver works in that subdirectory', async () => {
      const repo = join(work, 'mono');
      makeRepo(repo, { 'README.md': '# mono\n', 'packages/app/index.js': 'app\n', 'packages/lib/lib.js': 'lib\n' });
      const head = gitIn(repo, 'rev-parse', 'HEAD');

      const run = await deliveredRun(['--from', join(repo, 'packages', 'app')], [tools(shell('pwd; ls'))]);
      const workdir = join(run.project, 'packages', 'app');
      expect(Object.keys(filesOf(run.project)).sort()).toEqual(['README.md', 'packages/app/index.js', 'packages/lib/lib.js']);
      expect(run.record).toMatchObject({
        root: run.project,
        workdir,
        commit: head,
        source: { kind: 'path', path: join(repo, 'packages', 'app'), gitTopLevel: repo },
      });
      expect(toolOutputs(run.solverRequests[1]!)[0]).toBe(`${workdir}\nindex.js\n`);
      expect(run.outcome.deliverablePath).toBe(workdir);
    }, 120_000);
  });

  // -------------------------------------------------------------------------------------------
  describe('--from-git', () => {
    let bare: string;
    let v1: string;
    let featureHead: string;
    let mainHead: string;

    beforeAll(() => {
      const origin = join(work, 'origin-work');
      makeRepo(origin, { 'version.txt': 'v1\n', 'only-in-v1.txt': 'old\n' });
      gitIn(origin, 'tag', '-a', 'v1', '-m', 'release v1');
      v1 = gitIn(origin, 'rev-parse', 'v1^{commit}');
      rmSync(join(origin, 'only-in-v1.txt'));
      writeTree(origin, { 'version.txt': 'v2\n', 'main.txt': 'main\n' });
      gitIn(origin, 'add', '-A');
      gitIn(origin, 'commit', '-qm', 'v2');
      mainHead = gitIn(origin, 'rev-parse', 'HEAD');
      gitIn(origin, 'checkout', '-qb', 'feature');
      writeTree(origin, { 'feature.txt': 'feature\n' });
      gitIn(origin, 'add', '-A');
      gitIn(origin, 'commit', '-qm', 'feature');
      featureHead = gitIn(origin, 'rev-parse', 'HEAD');
      bare = join(work, 'bare.git');
      gitIn(work, 'init', '-q', '--bare', '-b', 'main', bare);
      gitIn(origin, 'push', '-q', bare, 'main', 'feature', '--tags');
    });

    it('#TAG copies the tagged tree (record.commit = the tag’s commit), with no remote', async () => {
      const run = await deliveredRun(['--from-git', `${bare}#v1`]);
      expect(Object.keys(filesOf(run.project)).sort()).toEqual(['only-in-v1.txt', 'version.txt']);
      expect(readFileSync(join(run.project, 'version.txt'), 'utf8')).toBe('v1\n');
      expect(run.record).toMatchObject({ commit: v1, branch: null, source: { kind: 'git', url: bare, ref: 'v1' }, files: 2, workdir: run.project });
      expect(gitIn(run.project, 'rev-parse', 'HEAD')).toBe(v1);
      expect(gitIn(run.project, 'remote')).toBe('');
      expect(gitIn(run.project, 'status', '--porcelain')).toBe('');
    }, 120_000);

    it('#BRANCH copies the branch’s tree and checks the branch out; no ref: the repository’s HEAD', async () => {
      const [feature, head] = await Promise.all([deliveredRun(['--from-git', `${bare}#feature`]), deliveredRun(['--from-git', bare])]);
      expect(Object.keys(filesOf(feature.project)).sort()).toEqual(['feature.txt', 'main.txt', 'version.txt']);
      expect(readFileSync(join(feature.project, 'version.txt'), 'utf8')).toBe('v2\n');
      expect(feature.record).toMatchObject({ commit: featureHead, branch: 'feature', source: { kind: 'git', url: bare, ref: 'feature' } });
      expect(gitIn(feature.project, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('feature');
      expect(gitIn(feature.project, 'remote')).toBe('');

      expect(Object.keys(filesOf(head.project)).sort()).toEqual(['main.txt', 'version.txt']);
      expect(head.record).toMatchObject({ commit: mainHead, branch: 'main', source: { kind: 'git', url: bare, ref: null } });
      expect(gitIn(head.project, 'remote')).toBe('');
    }, 180_000);

    it('a ref that does not exist: exit 2 naming the ref, nothing left', async () => {
      const { runId, r } = await refusedRun(['--from-git', `${bare}#no-such-ref`]);
      expect(r.stderr).toContain('"no-such-ref" is not a branch, tag or commit of the repository');
      expect(r.stderr).toContain('name an existing branch, tag or commit');
      expect(r.stderr).toContain('nothing was created');
      expectNothingLeft(t.h.runsRoot, t.h.home, runId);
    }, 120_000);

    it('a repository that does not exist: exit 2 with what git said, nothing left', async () => {
      const [path, url] = await Promise.all([refusedRun(['--from-git', '/nonexistent/repo.git']), refusedRun(['--from-git', 'file:///nope'])]);
      expect(path.r.stderr).toContain(
        "--from-git /nonexistent/repo.git: the repository could not be cloned (fatal: repository '/nonexistent/repo.git' does not exist)",
      );
      // git's last line here is "and the repository exists." — the message must carry the line that says what is wrong.
      expect(url.r.stderr).toContain("--from-git file:///nope: the repository could not be cloned (fatal: '/nope' does not appear to be a git repository");
      for (const { r, runId } of [path, url]) {
        expect(r.stderr).toContain('check the URL and that the worker can reach it');
        expectNothingLeft(t.h.runsRoot, t.h.home, runId);
      }
    }, 120_000);

    it('a repository over the file limit: exit 2 naming the limit and its variable, nothing left', async () => {
      process.env.INFTY_PROJECT_MAX_FILES = '2';
      const { runId, r } = await refusedRun(['--from-git', `${bare}#feature`]);
      expect(r.stderr).toContain(`the repository ${bare} has 3 files, over the limit of 2 (INFTY_PROJECT_MAX_FILES on the worker)`);
      expectNothingLeft(t.h.runsRoot, t.h.home, runId);
    }, 120_000);
  });

  // -------------------------------------------------------------------------------------------
  describe('bad input', () => {
    it('is refused by the CLI with exit 2 before anything starts', async () => {
      const dir = join(work, 'bad');
      writeTree(dir, { 'file.txt': 'a file\n' });
      const cases: { args: string[]; says: string }[] = [
        { args: ['--from', join(work, 'no-such-dir')], says: `--from ${join(work, 'no-such-dir')}: no such directory` },
        { args: ['--from', join(dir, 'file.txt')], says: "not a directory; give the project's directory, not a file in it" },
        { args: ['--from', dir, '--from-git', 'https://example.com/r.git'], says: '--from and --from-git cannot be combined' },
        { args: ['--deliver', 'diff'], says: '--deliver goes with --from or --from-git' },
        { args: ['--from', dir, '--deliver', 'bogus'], says: '--deliver must be "path" or "diff", got "bogus"' },
        { args: ['--from-git', '#v1'], says: '--from-git needs a repository URL' },
      ];
      const results = await Promise.all(cases.map((c) => refusedRun(c.args)));
      for (const [i, { runId, r }] of results.entries()) {
        expect(r.stderr, cases[i]!.args.join(' ')).toContain(cases[i]!.says);
        expect(r.stderr).toContain('nothing was started');
        expect(await t.h.infty.exists(runId), `a workflow for ${cases[i]!.args.join(' ')}`).toBe(false);
        expectNothingLeft(t.h.runsRoot, t.h.home, runId);
      }
    }, 120_000);

    it('a tree over the file limit or the byte limit: exit 2 naming the limit and its variable, nothing left', async () => {
      const many = join(work, 'many');
      writeTree(many, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`d${i % 6}/f${i}.txt`, `${i}\n`])));
      process.env.INFTY_PROJECT_MAX_FILES = '50';
      const files = await refusedRun(['--from', many]);
      expect(files.r.stderr).toContain(
        `the project at ${many} has 60 files, over the limit of 50 (INFTY_PROJECT_MAX_FILES on the worker); start from a smaller directory or raise the limit`,
      );
      expect(files.r.stderr).toContain('nothing was created');
      expect(await t.h.infty.exists(files.runId)).toBe(true); // the worker refused it: the workflow ended failed
      expectNothingLeft(t.h.runsRoot, t.h.home, files.runId);

      delete process.env.INFTY_PROJECT_MAX_FILES;
      process.env.INFTY_PROJECT_MAX_BYTES = '100';
      const heavy = join(work, 'heavy');
      writeTree(heavy, { 'big.bin': 'x'.repeat(101) });
      const bytes = await refusedRun(['--from', heavy]);
      expect(bytes.r.stderr).toContain(
        `the project at ${heavy} holds 101 bytes, over the limit of 100 bytes (INFTY_PROJECT_MAX_BYTES on the worker); start from a smaller directory or raise the limit`,
      );
      expectNothingLeft(t.h.runsRoot, t.h.home, bytes.runId);
    }, 120_000);

    describe('permissions (an unprivileged worker: the CLI’s own, as uid nobody when the tests run as root)', () => {
      let own: { home: string; runsRoot: string; env: Record<string, string> };

      beforeAll(() => {
        // Everything on the way to the trees must be traversable by the unprivileged user.
        chmodSync(work, 0o755);
        const base = join(work, 'unprivileged');
        mkdirSync(base, { mode: 0o755 });
        own = { home: join(base, 'home'), runsRoot: join(base, 'runs'), env: {} };
        for (const d of [base, own.home, own.runsRoot]) {
          mkdirSync(d, { recursive: true, mode: 0o755 });
          if (IS_ROOT) chownSync(d, NOBODY, NOBODY);
        }
        own.env = {
          TEMPORAL_ADDRESS: t.h.address,
          INFTY_HOME: own.home,
          INFTY_RUNS_ROOT: own.runsRoot,
          HOME: base,
          OPENAI_BASE_URL: t.h.model.baseUrl,
          OPENAI_API_KEY: 'test-key',
        };
      });

      async function refusedUnprivileged(from: string, extraEnv: Record<string, string> = {}): Promise<{ runId: string; r: CliResult }> {
        const runId = uniqueId('perm');
        t.scripts.set(runId, scriptByRole({}));
        // A task queue of its own each time: the server remembers a queue's pollers for a while, and a
        // CLI that believes a worker polls starts none of its own.
        const queue = { INFTY_TASK_QUEUE: uniqueId('tq-unpriv') };
        const r = await runCliUnprivileged(['run', '--from', from, '--run-id', runId, '--verifier', 'a', '--sandbox', 'none', 'Look at the project'], {
          ...own.env,
          ...queue,
          ...extraEnv,
        });
        expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(2);
        expect(t.h.model.requests.filter((q) => q.runId === runId)).toEqual([]);
        return { runId, r };
      }

      it('an unreadable file inside the tree: exit 2 naming it and what to do, nothing left', async () => {
        const src = join(work, 'locked-file');
        writeTree(src, { 'ok.txt': 'fine\n', 'keys/secret.key': 'no\n' });
        execFileSync('chmod', ['-R', 'a+rX', src]);
        chmodSync(join(src, 'keys/secret.key'), 0o000);
        const { runId, r } = await refusedUnprivileged(src);
        expect(r.stderr).toContain('cannot read 1 file(s) of the project: keys/secret.key (permission denied); fix their permissions');
        expect(r.stderr).toContain('nothing was created');
        expectNothingLeft(own.runsRoot, own.home, runId);
      }, 120_000);

      it('an unreadable file in a git work tree: the message also offers .gitignore', async () => {
        const repo = join(work, 'locked-repo');
        makeRepo(repo, { 'ok.txt': 'fine\n' });
        writeTree(repo, { 'private.pem': 'no\n' });
        execFileSync('chmod', ['-R', 'a+rX', repo]);
        // git reads only repositories of the user it runs as (safe.directory): the repository is the worker's.
        if (IS_ROOT) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, repo]);
        chmodSync(join(repo, 'private.pem'), 0o000);
        const { runId, r } = await refusedUnprivileged(repo);
        expect(r.stderr).toContain('cannot read 1 file(s) of the project: private.pem (permission denied); fix their permissions or add them to .gitignore');
        expectNothingLeft(own.runsRoot, own.home, runId);
      }, 120_000);

      it('an unreadable directory inside the tree: exit 2 naming it, nothing left', async () => {
        const src = join(work, 'locked-dir');
        writeTree(src, { 'ok.txt': 'fine\n', 'private/inner.txt': 'no\n' });
        execFileSync('chmod', ['-R', 'a+rX', src]);
        chmodSync(join(src, 'private'), 0o000);
        const { runId, r } = await refusedUnprivileged(src);
        expect(r.stderr).toContain(`cannot read the directory ${join(src, 'private')} of the project (permission denied); fix its permissions`);
        expectNothingLeft(own.runsRoot, own.home, runId);
      }, 120_000);

      it('a git repository of another user (git refuses it: dubious ownership) is refused, not copied as a plain directory', async () => {
        const repo = join(work, 'foreign-repo');
        makeRepo(repo, { '.gitignore': '.env\n', 'ok.txt': 'fine\n' });
        writeTree(repo, { '.env': 'PASSWORD=hunter2\n' });
        execFileSync('chmod', ['-R', 'a+rX', repo]);
        // As root the repository is root's and the worker nobody's; otherwise git's own test switch says "another owner".
        const { runId, r } = await refusedUnprivileged(repo, IS_ROOT ? {} : { GIT_TEST_ASSUME_DIFFERENT_OWNER: '1' });
        expect(r.stderr).toContain(`--from ${repo}: git refuses to read the repository at ${repo}: it belongs to another user`);
        expect(r.stderr).toContain(`git config --global --add safe.directory ${repo}`);
        expectNothingLeft(own.runsRoot, own.home, runId);
      }, 120_000);

      it('an unreadable project directory: refused by the CLI, nothing started', async () => {
        const src = join(work, 'locked-root');
        writeTree(src, { 'ok.txt': 'fine\n' });
        chmodSync(src, 0o000);
        const { runId, r } = await refusedUnprivileged(src);
        expect(r.stderr).toContain(`--from ${src}: the directory cannot be read (permission denied) (nothing was started)`);
        expect(await t.h.infty.exists(runId)).toBe(false);
        expectNothingLeft(own.runsRoot, own.home, runId);
      }, 60_000);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('a worker that cannot see the path', () => {
    it('refuses a --from path named on another host (local storage): failed, InvalidProjectSource, nothing left', async () => {
      const src = join(work, 'elsewhere');
      writeTree(src, { 'a.txt': 'a\n' });
      const runId = uniqueId('host');
      t.scripts.set(runId, scriptByRole({}));
      const { outcome } = await t.h.run({
        runId,
        objective: 'Look at the project',
        verifiers: ['verifier-a'],
        project: { path: src, host: 'some-other-machine', deliver: 'path' },
      });
      expect(outcome).toMatchObject({ status: 'failed', errorType: 'InvalidProjectSource' });
      const reason = (outcome as { reason: string }).reason;
      expect(reason).toContain(`--from ${src} names a directory on some-other-machine, but this worker runs on ${hostname()}`);
      expect(reason).toContain('INFTY_STORAGE=shared');
      expect(reason).toContain('--from-git URL');
      expect(t.h.model.requests.filter((q) => q.runId === runId)).toEqual([]);
      expectNothingLeft(t.h.runsRoot, t.h.home, runId);
    }, 60_000);

    it('refuses a relative path in the run input before any workflow starts', async () => {
      const runId = uniqueId('rel');
      await expect(t.h.infty.startRun({ runId, objective: 'x', sandbox: 'none', project: { path: 'relative/dir', deliver: 'path' } })).rejects.toThrow(
        /project path must be absolute/,
      );
      expect(await t.h.infty.exists(runId)).toBe(false);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('a large tree', () => {
    const FILES = 50_000;
    const DIRS = 500;
    const DISTINCT = 10_000;
    const contentOf = (i: number) => `large-tree content #${i % DISTINCT}\n`;
    const pathOf = (i: number) => `d${String(i % DIRS).padStart(3, '0')}/f${i}.txt`;

    it('copies 50,000 files completely and stores each distinct content once (a second run adds no object)', async () => {
      const src = join(work, 'large');
      for (let d = 0; d < DIRS; d++) mkdirSync(join(src, `d${String(d).padStart(3, '0')}`), { recursive: true });
      for (let i = 0; i < FILES; i++) writeFileSync(join(src, pathOf(i)), contentOf(i));

      // Counted when the Solver is first asked, i.e. after the import and before any turn snapshot.
      const counts: number[] = [];
      const countObjectsFirst: ScriptEntry = () => {
        counts.push(countObjects(t.h.home));
        return tools(shell('true'));
      };
      const timed = async () => {
        const started = Date.now();
        // One file is delivered: hashing a 50,000-file deliverable is the deliverable check's cost, not the import's.
        const run = await deliveredRun(['--from', src], [countObjectsFirst], { deliverPath: pathOf(0), timeoutMs: 840_000 });
        console.log(`[large tree] run ${run.runId}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return run;
      };
      const before = countObjects(t.h.home);
      const first = await timed();
      const afterFirst = countObjects(t.h.home);
      const second = await timed();

      for (const run of [first, second]) {
        expect(run.base.files).toHaveLength(FILES);
        expect(run.record.files).toBe(FILES);
        expect(run.record.bytes).toBe(Array.from({ length: FILES }, (_, i) => contentOf(i).length).reduce((a, b) => a + b, 0));
        const byPath = new Map(run.base.files.map((f) => [f.path, f]));
        for (let i = 0; i < FILES; i += 997) {
          const p = pathOf(i);
          expect(readFileSync(join(run.project, p), 'utf8'), p).toBe(contentOf(i));
          expect(byPath.get(p)?.sha256, p).toBe(sha256(contentOf(i)));
        }
      }
      // Every file of the copy: one listing of the whole tree.
      expect(
        execFileSync('find', [first.project, '-type', 'f'], { maxBuffer: 64 * 1024 * 1024 })
          .toString()
          .split('\n')
          .filter(Boolean),
      ).toHaveLength(FILES);
      expect(counts[0]! - before, 'objects added by the first import').toBe(DISTINCT);
      expect(counts[1]! - afterFirst, 'objects added by the second import of the same tree').toBe(0);
      for (const dir of [src, first.runDir, second.runDir]) rmSync(dir, { recursive: true, force: true });
    }, 1_800_000);
  });
});
