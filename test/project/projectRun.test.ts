/**
 * Issue 18: a run that starts from the user's git repository (docs/behaviour.md §4.4–4.5). The
 * scripted Solver fixes a failing test in a copy of a real repository (git status/log/commit in
 * its working directory); `infty diff` shows exactly that change, `infty apply` makes a clean
 * clone's test pass, a conflicting clone is left untouched (exit 1), and the user's repository,
 * .git included, is byte-for-byte what it was.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import type { RecordedRequest } from '../support/fakeModel';
import { gitIn, makeRepo, treeFingerprint, writeTree } from '../support/gitRepo';
import { uniqueId, usePerRunHarness } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { deliver, shell, tools, verdict } from '../support/replies';

const BUGGY = 'exports.add = (a, b) => a - b;\n';
const FIXED = 'exports.add = (a, b) => a + b;\n';
const TEST = "const { add } = require('./calc');\nif (add(2, 3) !== 5) { console.error('FAIL add(2,3)=' + add(2, 3)); process.exit(1); }\nconsole.log('ok');\n";

const fixCalc = {
  name: 'apply_patch',
  arguments: {
    input: ['*** Begin Patch', '*** Update File: calc.js', '-exports.add = (a, b) => a - b;', '+exports.add = (a, b) => a + b;', '*** End Patch'].join('\n'),
  },
};

/** The text of a Responses request's last user message. */
const lastUserText = (req: RecordedRequest): string => {
  const msg = (req.body.input as { role?: string; content: string | { text: string }[] }[]).filter((i) => i.role === 'user').at(-1)!;
  return typeof msg.content === 'string' ? msg.content : msg.content.map((c) => c.text).join('');
};
const outputsOf = (req: RecordedRequest): string =>
  JSON.stringify((req.body.input as { type: string; output?: string }[]).filter((i) => i.type === 'function_call_output'));

describe('a run started from a git repository', () => {
  const t = usePerRunHarness();
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infty-proj-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('fixes a failing test; diff shows exactly the fix; apply makes a clean clone pass and refuses a conflicting one', async () => {
    const repo = join(work, 'repo');
    makeRepo(repo, {
      'calc.js': BUGGY,
      'test.js': TEST,
      'README.md': '# calc\n',
      '.gitignore': 'node_modules/\nbuild/\n*.log\n',
      'AGENTS.md': 'ROOT-AGENTS: run `node test.js` before delivering.\n',
      'sub/AGENTS.md': 'SUB-AGENTS: never used by this run (the working directory is the root).\n',
      'tool.sh': '#!/bin/sh\necho tool\n',
    });
    chmodSync(join(repo, 'tool.sh'), 0o755);
    gitIn(repo, 'add', 'tool.sh');
    gitIn(repo, 'commit', '-qm', 'executable tool');
    // The user's state: an uncommitted edit, an untracked file, ignored files, links in and out.
    writeFileSync(join(repo, 'README.md'), '# calc\nuncommitted line\n');
    writeTree(repo, {
      'notes.txt': 'untracked, not ignored\n',
      'build/out.txt': 'ignored\n',
      'node_modules/dep/index.js': 'ignored\n',
      'debug.log': 'ignored\n',
    });
    symlinkSync('calc.js', join(repo, 'calc-link.js'));
    symlinkSync('/etc/hostname', join(repo, 'escape'));
    const userBefore = treeFingerprint(repo);
    const head = gitIn(repo, 'rev-parse', 'HEAD');

    const runId = uniqueId('proj');
    t.scripts.set(
      runId,
      scriptByRole({
        solver: [
          tools(shell('git status --porcelain; git log --oneline | cat; pwd; ls -A')),
          tools(fixCalc),
          tools(shell('node test.js && git add -A && git -c user.name=Solver -c user.email=s@example.com commit -qm "fix add" && git log --oneline -1 | cat')),
          deliver('.', 'add() fixed; node test.js passes'),
        ],
        'verifier*': [verdict('pass')],
      }),
    );
    const r = await runCli(
      ['run', '--from', repo, '--run-id', runId, '--verifier', 'a', '--sandbox', 'none', '--json', 'Fix the failing test (node test.js)'],
      t.env,
      180_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const outcome = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; deliverablePath: string };
    expect(outcome.status).toBe('delivered');

    // The copy: what git lists, as it is on disk; Infty's files beside it, not in it.
    const runDir = join(t.h.runsRoot, runId);
    const project = join(runDir, 'project');
    expect(outcome.deliverablePath).toBe(project);
    expect(readFileSync(join(project, 'calc.js'), 'utf8')).toBe(FIXED);
    expect(readFileSync(join(project, 'README.md'), 'utf8')).toBe('# calc\nuncommitted line\n');
    expect(readFileSync(join(project, 'notes.txt'), 'utf8')).toBe('untracked, not ignored\n');
    for (const ignored of ['build', 'node_modules', 'debug.log', 'escape', 'run.json', 'artifacts', 'deliverable'])
      expect(existsSync(join(project, ignored)), ignored).toBe(false);
    expect(lstatSync(join(project, 'calc-link.js')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(project, 'calc-link.js'))).toBe('calc.js');
    expect(statSync(join(project, 'tool.sh')).mode & 0o777).toBe(0o755);
    const runJson = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(runJson.project).toMatchObject({
      root: project,
      workdir: project,
      commit: head,
      branch: 'main',
      skippedLinks: ['escape'],
      source: { kind: 'path', gitTopLevel: repo },
    });
    expect(runJson.project_docs).toMatchObject({ files: ['(project root)'], truncated: false });

    // git in the copy: the user's history, the user's uncommitted state, and the Solver's own commit.
    const solverReqs = t.h.model.requests.filter((q) => q.runId === runId && q.role === 'solver');
    const afterStatus = outputsOf(solverReqs[1]!);
    expect(afterStatus).toContain(' M README.md');
    expect(afterStatus).toContain('?? notes.txt');
    expect(afterStatus).toContain('executable tool');
    expect(afterStatus).toContain(project);
    expect(outputsOf(solverReqs[3]!)).toContain('fix add');
    expect(gitIn(project, 'log', '--format=%s')).toBe('fix add\nexecutable tool\ninitial');
    expect(gitIn(project, 'remote')).toBe('');

    // AGENTS.md from the root down to the working directory, in the Solver's and the Verifier's instructions.
    expect(solverReqs[0]!.body.instructions).toContain('ROOT-AGENTS');
    expect(solverReqs[0]!.body.instructions).not.toContain('SUB-AGENTS');
    expect(JSON.stringify(solverReqs[0]!.body.input)).toContain('copy of the user');
    const verifierReq = t.h.model.requests.find((q) => q.runId === runId && q.role === 'verifier-a')!;
    expect(verifierReq.body.instructions).toContain('ROOT-AGENTS');
    const request = JSON.parse(lastUserText(verifierReq));
    expect(request.change).toMatchObject({
      project_dir: 'project',
      files_changed: 1,
      lines_added: 1,
      lines_removed: 1,
      files: [{ path: 'calc.js', status: 'modified' }],
    });

    // infty diff: exactly the fix.
    const d = await runCli(['diff', runId], t.env);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.match(/^diff --git/gm)).toHaveLength(1);
    expect(d.stdout).toContain('diff --git a/calc.js b/calc.js');
    expect(d.stdout).toContain('-exports.add = (a, b) => a - b;');
    expect(d.stdout).toContain('+exports.add = (a, b) => a + b;');
    const stat = await runCli(['diff', runId, '--stat'], t.env);
    expect(stat.stdout).toMatch(/calc\.js \| 2 \+-/);
    expect(stat.stdout).toContain('1 file changed');

    // infty show names the project, its commit and the AGENTS.md it read.
    const shown = await runCli(['show', runId], t.env);
    expect(shown.stdout).toContain(`project:   ${repo} at ${head.slice(0, 12)} (main)`);
    expect(shown.stdout).toContain(`workdir:   ${project}`);
    expect(shown.stdout).toMatch(/AGENTS\.md: \(project root\); \d+ bytes, sha256 [0-9a-f]{16}/);

    // The user's repository, .git included, is byte-for-byte unchanged.
    expect(treeFingerprint(repo)).toEqual(userBefore);

    // infty apply: a clean clone now passes its test.
    const clean = join(work, 'clean');
    gitIn(work, 'clone', '-q', repo, clean);
    expect((await runCli(['apply', runId, '--to', clean, '--check'], t.env)).code).toBe(0);
    expect(readFileSync(join(clean, 'calc.js'), 'utf8')).toBe(BUGGY);
    const applied = await runCli(['apply', runId, '--to', clean], t.env);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(execFileSync('node', ['test.js'], { cwd: clean }).toString()).toBe('ok\n');

    // A clone whose calc.js was edited on the same line: conflict, exit 1, nothing changed.
    const conflicting = join(work, 'conflicting');
    gitIn(work, 'clone', '-q', repo, conflicting);
    writeFileSync(join(conflicting, 'calc.js'), 'exports.add = (a, b) => b - a;\n');
    const before = treeFingerprint(conflicting);
    const refused = await runCli(['apply', runId, '--to', conflicting], t.env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('calc.js');
    expect(treeFingerprint(conflicting)).toEqual(before);

    // Default target: the --from directory (checked only, so the user's files stay as they are).
    const check = await runCli(['apply', runId, '--check'], t.env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(repo);
    expect(treeFingerprint(repo)).toEqual(userBefore);
  }, 240_000);
});
