/**
 * Issue 18, attacked: AGENTS.md ($INFTY_HOME's, then the project's from its root down to the working
 * directory, capped at 32 KiB, in the Solver's and the Verifiers' instructions, surviving compaction,
 * off with --no-project-docs) and the change handed back (`--deliver diff`, `infty diff` with renames
 * and binary files, `infty apply`, forks keeping the source's base, bad input refused with exit 2,
 * the user's repository untouched by a Solver under the real bubblewrap sandbox).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectProjectDocs } from '../../src/activities/project/projectDocs';
import { PROJECT_DOCS_MAX_BYTES } from '../../src/protocol/project';
import { type CliResult, runCli } from '../support/cli';
import type { RecordedRequest, Responder } from '../support/fakeModel';
import { gitIn, makeRepo, treeFingerprint, writeTree } from '../support/gitRepo';
import { uniqueId, usePerRunHarness } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { askDirection, deliver, directive, say, shell, tools, verdict, withUsage } from '../support/replies';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The text of a Responses request's last user message. */
function lastUserText(req: RecordedRequest): string {
  const msg = (req.body.input as { role?: string; content: string | { text: string }[] }[]).filter((i) => i.role === 'user').at(-1)!;
  return typeof msg.content === 'string' ? msg.content : msg.content.map((c) => c.text).join('');
}

/** The last tool output a request carries, parsed ({output, metadata: {exit_code}}). */
function lastToolOutput(req: RecordedRequest): { output: string; metadata: { exit_code: number } } {
  const out = (req.body.input as { type?: string; output?: string }[]).filter((i) => i.type === 'function_call_output').at(-1)!;
  return JSON.parse(out.output!);
}

/** A directory's files as treeFingerprint has them, without the top-level .git. */
function workFiles(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(treeFingerprint(dir)).filter(([p]) => p !== '.git' && !p.startsWith('.git/')));
}

/** The files of a patch, one per `diff --git` section: "OLD → NEW" for a rename, else the path (spaces allowed). */
function diffHeaders(patch: string): string[] {
  return patch
    .split(/^(?=diff --git )/m)
    .filter((part) => part.startsWith('diff --git '))
    .map((part) => {
      const rename = /^rename from (.+)\nrename to (.+)$/m.exec(part);
      if (rename) return `${rename[1]} → ${rename[2]}`;
      const rest = part.slice('diff --git '.length, part.indexOf('\n'));
      return rest.slice(2, 2 + (rest.length - 5) / 2); // "a/P b/P"
    });
}

/** Bytes that are not text: NULs and high bytes (git calls such a file binary). */
const binaryBytes = (seed: number, n = 600) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 256));

const AGENTS_HEADER = /# AGENTS\.md instructions for /g;
const CUT_MARKER = /\n\[… AGENTS\.md text cut here: \d+ more bytes over the 32 KiB limit were left out …\]$/;

describe('project runs: AGENTS.md, and the change handed back', () => {
  const t = usePerRunHarness();
  let work: string;
  const homeAgents = () => join(t.h.home, 'AGENTS.md');

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'infty-pdc-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const requestsOf = (runId: string, role?: string) =>
    t.h.model.requests.filter((q) => q.runId === runId && (role === undefined || q.role === role || (role === 'verifier*' && q.role?.startsWith('verifier'))));
  const runJsonOf = (runId: string) => JSON.parse(readFileSync(join(t.h.runsRoot, runId, 'run.json'), 'utf8'));
  const agentsText = (runId: string) => readFileSync(join(t.h.home, 'projects', runId, 'agents.md'), 'utf8');

  /** `infty run ARGS --run-id ID --verifier a --json OBJECTIVE` with `script` as the model; the outcome parsed. */
  async function cliRun(args: string[], script: Responder, opts: { runId?: string; objective?: string } = {}) {
    const runId = opts.runId ?? uniqueId('pdc');
    t.scripts.set(runId, script);
    const r = await runCli(['run', ...args, '--run-id', runId, '--verifier', 'a', '--json', opts.objective ?? 'Make the change'], t.env, 180_000);
    let outcome: Record<string, any> | undefined;
    try {
      outcome = JSON.parse(r.stdout.trim().split('\n').pop()!);
    } catch {
      outcome = undefined;
    }
    return { runId, runDir: join(t.h.runsRoot, runId), r, outcome: outcome as Record<string, any> };
  }

  /** Runs `fn` with $INFTY_HOME/AGENTS.md holding `text`, removing it afterwards (every run of the harness reads it). */
  async function withHomeAgents<T>(text: string, fn: () => Promise<T>): Promise<T> {
    writeFileSync(homeAgents(), text);
    try {
      return await fn();
    } finally {
      rmSync(homeAgents(), { force: true });
    }
  }

  const expectDelivered = (run: { r: CliResult; outcome: Record<string, any> }) => {
    expect(run.r.code, run.r.stderr + run.r.stdout).toBe(0);
    expect(run.outcome?.status, run.r.stdout).toBe('delivered');
  };

  // ── 1 ────────────────────────────────────────────────────────────────────────────────────────────

  it('AGENTS.md: $INFTY_HOME, the root and the directories down to the working directory, in that order, for the Solver and Verifiers only', async () => {
    const repo = join(work, 'nested');
    makeRepo(repo, {
      'AGENTS.md': 'ROOT-DOC-7f3: use tabs.\n',
      'sub/AGENTS.md': 'SUB-DOC-7f3: run make check in sub.\n',
      'sub/deeper/AGENTS.md': 'DEEPER-DOC-7f3: must not be read (below the working directory).\n',
      'sub/code.txt': 'old\n',
      'other/AGENTS.md': 'OTHER-DOC-7f3: a sibling, not on the way down.\n',
    });
    const run = await withHomeAgents('HOME-DOC-7f3: be terse.\n', () =>
      cliRun(
        ['--from', join(repo, 'sub'), '--sandbox', 'none'],
        scriptByRole({
          solver: [tools(shell('printf "new\\n" > code.txt && pwd')), askDirection('which style?'), deliver('.', 'code.txt updated')],
          director: [directive('keep going')],
          'verifier*': [verdict('pass')],
        }),
      ),
    );
    expectDelivered(run);
    const { runId } = run;
    const text = agentsText(runId);

    // The order: home, root, sub; never deeper or a sibling.
    const at = (s: string) => text.indexOf(s);
    expect(at('HOME-DOC-7f3')).toBeGreaterThanOrEqual(0);
    expect(at('HOME-DOC-7f3')).toBeLessThan(at('ROOT-DOC-7f3'));
    expect(at('ROOT-DOC-7f3')).toBeLessThan(at('SUB-DOC-7f3'));
    expect(text).not.toContain('DEEPER-DOC-7f3');
    expect(text).not.toContain('OTHER-DOC-7f3');
    expect(text.match(AGENTS_HEADER)).toHaveLength(3);

    // The Solver's first request and every Verifier request end their instructions with exactly that text.
    const solver = requestsOf(runId, 'solver');
    expect(solver.length).toBeGreaterThanOrEqual(3);
    for (const q of solver) expect((q.body.instructions as string).endsWith(text), `solver request ${q.seq}`).toBe(true);
    expect(solver[0]!.body.instructions).not.toContain('DEEPER-DOC-7f3');
    const verifiers = requestsOf(runId, 'verifier*');
    expect(verifiers.length).toBeGreaterThanOrEqual(1);
    for (const q of verifiers) expect((q.body.instructions as string).endsWith(text), `verifier request ${q.seq}`).toBe(true);
    // Not in the conversation itself (it is instructions), and not for the Director.
    expect(JSON.stringify(solver[0]!.body.input)).not.toContain('ROOT-DOC-7f3');
    const director = requestsOf(runId, 'director');
    expect(director.length).toBeGreaterThanOrEqual(1);
    for (const q of director) {
      const all = JSON.stringify(q.body);
      for (const marker of ['HOME-DOC-7f3', 'ROOT-DOC-7f3', 'SUB-DOC-7f3']) expect(all, `director request ${q.seq}`).not.toContain(marker);
    }
    // The Director and the Verifier see the change so far.
    expect(JSON.parse(lastUserText(director[0]!)).change).toMatchObject({
      project_dir: 'project',
      files_changed: 1,
      files: [{ path: 'sub/code.txt', status: 'modified' }],
    });
    expect(JSON.parse(lastUserText(verifiers[0]!)).change).toMatchObject({ files_changed: 1, lines_added: 1, lines_removed: 1 });

    // run.json and `infty show --json` describe the text that was given.
    const docs = runJsonOf(runId).project_docs;
    expect(docs).toEqual({
      files: ['$INFTY_HOME', '(project root)', 'sub'],
      bytes: Buffer.byteLength(text),
      sha256: sha256(readFileSync(join(t.h.home, 'projects', runId, 'agents.md'))),
      truncated: false,
    });
    expect(JSON.parse(readFileSync(join(t.h.home, 'projects', runId, 'agents.json'), 'utf8'))).toEqual(docs);
    const show = await runCli(['show', runId, '--json'], t.env);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).runJson.project_docs).toEqual(docs);
    expect(runJsonOf(runId).project.workdir).toBe(join(run.runDir, 'project', 'sub'));
  }, 240_000);

  // ── 2 ────────────────────────────────────────────────────────────────────────────────────────────

  it('AGENTS.md over 32 KiB is cut to 32 KiB with a marker, never inside a character', async () => {
    // The run: a 100 KiB AGENTS.md of two-byte characters.
    const repo = join(work, 'huge-docs');
    makeRepo(repo, { 'AGENTS.md': `${'é'.repeat(50 * 1024)}\nTAIL-NEVER-SEEN\n`, 'x.txt': 'x\n' });
    expect(Buffer.byteLength(readFileSync(join(repo, 'AGENTS.md')))).toBeGreaterThan(100 * 1024);
    const run = await cliRun(['--from', repo, '--sandbox', 'none'], scriptByRole({ solver: [deliver('.')], 'verifier*': [verdict('pass')] }));
    expectDelivered(run);
    const raw = readFileSync(join(t.h.home, 'projects', run.runId, 'agents.md'));
    const text = raw.toString('utf8');
    expect(raw.length).toBeLessThanOrEqual(PROJECT_DOCS_MAX_BYTES);
    expect(raw.length).toBeGreaterThan(PROJECT_DOCS_MAX_BYTES - 200);
    expect(Buffer.from(text, 'utf8').equals(raw)).toBe(true); // valid UTF-8
    expect(text).not.toContain('\uFFFD');
    expect(text).toMatch(CUT_MARKER);
    expect(text).not.toContain('TAIL-NEVER-SEEN');
    expect(text.replace(CUT_MARKER, '')).toMatch(/<INSTRUCTIONS>\né+$/);
    expect(runJsonOf(run.runId).project_docs).toEqual({ files: ['(project root)'], bytes: raw.length, sha256: sha256(raw), truncated: true });
    const solver = requestsOf(run.runId, 'solver')[0]!;
    expect((solver.body.instructions as string).endsWith(text)).toBe(true);
    expect((requestsOf(run.runId, 'verifier*')[0]!.body.instructions as string).endsWith(text)).toBe(true);

    // The cut at every offset inside a four-byte character (and at a boundary): whole characters only, as long as fits.
    for (let pad = 0; pad < 4; pad++) {
      const home = mkdtempSync(join(work, 'cut-home-'));
      const root = mkdtempSync(join(work, 'cut-root-'));
      writeFileSync(join(root, 'AGENTS.md'), 'a'.repeat(pad) + '😀'.repeat(20_000));
      const record = (await collectProjectDocs(home, `cut-${pad}`, { root, workdir: root, label: () => '(project root)' }))!;
      const cut = readFileSync(join(home, 'projects', `cut-${pad}`, 'agents.md'));
      const cutText = cut.toString('utf8');
      expect(record).toMatchObject({ truncated: true, bytes: cut.length, sha256: sha256(cut) });
      expect(cut.length, `pad ${pad}`).toBeLessThanOrEqual(PROJECT_DOCS_MAX_BYTES);
      expect(Buffer.from(cutText, 'utf8').equals(cut), `pad ${pad}`).toBe(true);
      expect(cutText).toMatch(CUT_MARKER);
      const body = cutText.replace(CUT_MARKER, '');
      expect(body, `pad ${pad}`).toMatch(new RegExp(`<INSTRUCTIONS>\\na{${pad}}(😀)+$`, 'u'));
      // Nothing more was dropped than the character that did not fit.
      const marker = cutText.slice(body.length);
      expect(Buffer.byteLength(body) + Buffer.byteLength(marker), `pad ${pad}`).toBeGreaterThan(PROJECT_DOCS_MAX_BYTES - 4);
    }
  }, 240_000);

  // ── 3 ────────────────────────────────────────────────────────────────────────────────────────────

  it('--no-project-docs: no AGENTS.md in any request, and none recorded', async () => {
    const repo = join(work, 'no-docs');
    makeRepo(repo, { 'AGENTS.md': 'ROOT-DOC-nd4\n', 'f.txt': 'f\n' });
    const run = await withHomeAgents('HOME-DOC-nd4\n', () =>
      cliRun(
        ['--from', repo, '--sandbox', 'none', '--no-project-docs'],
        scriptByRole({
          solver: [tools(shell('printf "g\\n" > f.txt')), askDirection('ok?'), deliver('.')],
          director: [directive('yes')],
          'verifier*': [verdict('pass')],
        }),
      ),
    );
    expectDelivered(run);
    const reqs = requestsOf(run.runId);
    expect(new Set(reqs.map((q) => q.role))).toEqual(new Set(['solver', 'director', 'verifier-a']));
    for (const q of reqs) {
      const all = JSON.stringify(q.body);
      expect(all, `${q.role} request ${q.seq}`).not.toContain('HOME-DOC-nd4');
      expect(all, `${q.role} request ${q.seq}`).not.toContain('ROOT-DOC-nd4');
      expect(all).not.toContain('AGENTS.md instructions for');
    }
    const runJson = runJsonOf(run.runId);
    expect(runJson).not.toHaveProperty('project_docs');
    expect(runJson.project).toBeDefined();
    expect(existsSync(join(t.h.home, 'projects', run.runId, 'agents.md'))).toBe(false);
    expect(existsSync(join(t.h.home, 'projects', run.runId, 'agents.json'))).toBe(false);
  }, 240_000);

  // ── 4 ────────────────────────────────────────────────────────────────────────────────────────────

  it('a run without a project still reads $INFTY_HOME/AGENTS.md, once, when it starts', async () => {
    const run = await withHomeAgents('HOME-ONLY-DOC-q8: answer in English.\n', () =>
      cliRun(
        ['--sandbox', 'none'],
        scriptByRole({
          solver: [
            tools(shell('mkdir -p deliverable && echo hi > deliverable/a.txt')),
            // The file changes while the run goes on: the Verifier's conversation, new after this, still gets the text read at the start.
            () => {
              writeFileSync(homeAgents(), 'HOME-CHANGED-LATER-q8\n');
              return deliver('deliverable/a.txt');
            },
          ],
          'verifier*': [verdict('pass')],
        }),
      ),
    );
    expectDelivered(run);
    const text = agentsText(run.runId);
    expect(text).toContain('HOME-ONLY-DOC-q8');
    expect(text).not.toContain('HOME-CHANGED-LATER-q8');
    expect(JSON.stringify(requestsOf(run.runId))).not.toContain('HOME-CHANGED-LATER-q8');
    expect(JSON.parse(lastUserText(requestsOf(run.runId, 'verifier-a')[0]!))).not.toHaveProperty('change');
    expect(text.match(AGENTS_HEADER)).toHaveLength(1);
    for (const q of requestsOf(run.runId, 'solver')) expect((q.body.instructions as string).endsWith(text)).toBe(true);
    expect((requestsOf(run.runId, 'verifier*')[0]!.body.instructions as string).endsWith(text)).toBe(true);
    const runJson = runJsonOf(run.runId);
    expect(runJson).not.toHaveProperty('project');
    expect(runJson.project_docs).toMatchObject({ files: ['$INFTY_HOME'], truncated: false, sha256: sha256(text) });
  }, 240_000);

  // ── 5 ────────────────────────────────────────────────────────────────────────────────────────────

  it('AGENTS.md survives the Solver compacting its history (remote and local compaction)', async () => {
    const repo = join(work, 'compacting');
    makeRepo(repo, { 'AGENTS.md': 'COMPACT-DOC-k2: keep this after compaction.\n', 'f.txt': 'f\n' });
    const COMPACT = '/v1/responses/compact';
    for (const mode of ['remote', 'local'] as const) {
      const runId = uniqueId(`pdc-compact-${mode}`);
      const script = scriptByRole({
        solver: [
          withUsage(tools(shell('printf "1\\n" >> f.txt')), { inputTokens: 9_000 }),
          withUsage(tools(shell('printf "2\\n" >> f.txt')), { inputTokens: 9_000 }),
          deliver('.'),
        ],
        'verifier*': [verdict('pass')],
      });
      t.scripts.set(runId, (req) => {
        if (mode === 'local' && req.path === COMPACT) return { kind: 'error', status: 404, message: 'Not Found' };
        if (req.purpose === 'compaction') return say(`Summary ${req.seq}: appended lines to f.txt.`);
        return script(req);
      });
      const { outcome } = await t.h.run({ runId, objective: 'Append lines', verifiers: ['verifier-a'], project: { path: repo }, autoCompactLimit: 5_000 });
      expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');
      const text = agentsText(runId);
      expect(text).toContain('COMPACT-DOC-k2');

      const reqs = requestsOf(runId, 'solver');
      const compactions = reqs.filter((q) => q.purpose === 'compaction' && q.status !== 'fault');
      expect(compactions.length, mode).toBeGreaterThanOrEqual(1);
      if (mode === 'remote') expect(compactions.every((c) => c.path === COMPACT)).toBe(true);
      else expect(compactions.every((c) => c.path !== COMPACT)).toBe(true);
      const turns = reqs.filter((q) => q.purpose === 'turn');
      const after = turns.filter((q) => q.seq > compactions[0]!.seq);
      expect(after.length, mode).toBeGreaterThanOrEqual(1);
      // The turn after the compaction is a new history (the summary), and its instructions still end with the AGENTS.md text.
      expect(JSON.stringify(after[0]!.body.input)).toMatch(mode === 'remote' ? /"type":"compaction"/ : /Summary \d+: appended lines/);
      for (const q of after) expect((q.body.instructions as string).endsWith(text), `${mode}: solver request ${q.seq}`).toBe(true);
      expect(after[0]!.body.instructions).toBe(turns[0]!.body.instructions);
      const progress = await t.h.infty.progress(runId);
      expect(progress.roles.solver!.compactions, mode).toBeGreaterThanOrEqual(1);
      // The new generation's transcript starts with both instruction items.
      const gen = readFileSync(join(t.h.home, 'transcripts', runId, `solver.${progress.roles.solver!.generation}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(
        gen
          .filter((i) => i.type === 'instructions')
          .map((i) => i.text)
          .at(-1),
      ).toBe(text);
    }
  }, 240_000);

  // ── 6 ────────────────────────────────────────────────────────────────────────────────────────────

  it("--deliver diff: the patch is the deliverable, verified, and applies to a clean clone as the Solver's change", async () => {
    const repo = join(work, 'deliver-diff');
    makeRepo(repo, { 'calc.js': 'exports.add = (a, b) => a - b;\n', 'gone.txt': 'to be deleted\n', 'run.sh': 'echo run\n', 'README.md': '# r\n' });
    writeFileSync(join(repo, 'img.bin'), binaryBytes(1));
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-qm', 'binary');
    const run = await cliRun(
      ['--from', repo, '--sandbox', 'none', '--deliver', 'diff'],
      scriptByRole({
        solver: [
          tools(
            shell(
              [
                "sed -i 's/a - b/a + b/' calc.js",
                'rm gone.txt',
                'chmod +x run.sh',
                'mkdir -p lib/deep && printf "export const x = 1;\\n" > lib/deep/new.js',
                `node -e 'require("fs").writeFileSync("img.bin", Buffer.from(Array.from({length: 700}, (_, i) => (i * 7 + 3) % 256)))'`,
              ].join(' && '),
            ),
          ),
          deliver('.', 'first try'),
          tools(shell('printf "# r\\nsee lib/deep/new.js\\n" > README.md')),
          deliver('.', 'fixed add, removed gone.txt, new lib file, README'),
        ],
        'verifier*': [verdict('fail', ['README does not mention lib']), verdict('pass')],
      }),
    );
    expectDelivered(run);
    const { runId, runDir, outcome } = run;
    const patchPath = join(runDir, 'deliverable', 'changes.patch');
    expect(outcome.deliverablePath).toBe(patchPath);
    const patch = readFileSync(patchPath);
    expect(outcome.deliverable).toEqual({ kind: 'file', size: patch.length, sha256: sha256(patch) });
    expect(outcome.verifiedHash).toBe(sha256(patch));
    expect(diffHeaders(patch.toString('utf8')).sort()).toEqual(['README.md', 'calc.js', 'gone.txt', 'img.bin', 'lib/deep/new.js', 'run.sh']);
    expect(patch.toString('utf8')).toContain('+see lib/deep/new.js');
    expect(patch.toString('utf8')).toContain('GIT binary patch');
    expect(patch.toString('utf8')).toMatch(/^old mode 100644\nnew mode 100755$/m);

    // The Verifier judged the patch each time, written anew for each delivery, and saw the change's summary.
    const rounds = requestsOf(runId, 'verifier-a').map((q) => JSON.parse(lastUserText(q)));
    expect(rounds).toHaveLength(2);
    for (const round of rounds) expect(round.claim_path).toBe('deliverable/changes.patch');
    expect(rounds[0].change).toMatchObject({ project_dir: 'project', files_changed: 5 });
    expect(rounds[1].change).toMatchObject({ project_dir: 'project', files_changed: 6 });
    expect(rounds[1].change.files).toContainEqual({ path: 'README.md', status: 'modified', added: 1, removed: 0 });

    // git apply on a clean clone gives exactly the Solver's tree.
    const clean = join(work, 'deliver-diff-clean');
    gitIn(work, 'clone', '-q', repo, clean);
    execFileSync('git', ['apply', '--check', patchPath], { cwd: clean });
    execFileSync('git', ['apply', patchPath], { cwd: clean });
    expect(workFiles(clean)).toEqual(workFiles(join(runDir, 'project')));
    expect(existsSync(join(clean, 'gone.txt'))).toBe(false);
    expect(readFileSync(join(clean, 'img.bin')).equals(readFileSync(join(runDir, 'project', 'img.bin')))).toBe(true);

    // infty verify: the verified patch is what is on disk.
    const v = await runCli(['verify', runId, '--json'], t.env);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ unchanged: true, kind: 'file', verifiedHash: sha256(patch), path: patchPath });
    // infty diff shows the same change (binary named, not encoded).
    const d = await runCli(['diff', runId], t.env);
    expect(d.code, d.stderr).toBe(0);
    expect(diffHeaders(d.stdout).sort()).toEqual(diffHeaders(patch.toString('utf8')).sort());
    expect(d.stdout).toContain('Binary files a/img.bin and b/img.bin differ');
  }, 240_000);

  // ── 7 ────────────────────────────────────────────────────────────────────────────────────────────

  it('renames and binary files: infty diff names them, infty apply reproduces them byte for byte', async () => {
    const repo = join(work, 'rename-binary');
    const long = `${Array.from({ length: 40 }, (_, i) => `line ${i} of the old file`).join('\n')}\n`;
    makeRepo(repo, { 'docs/old_name.txt': long, 'src/moved.txt': long.replace(/old/g, 'other'), 'keep.txt': 'keep\n', 'naïve notes/résumé 1.txt': 'draft\n' });
    writeFileSync(join(repo, 'logo.bin'), binaryBytes(2));
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-qm', 'logo');
    const userBefore = treeFingerprint(repo);
    const run = await cliRun(
      ['--from', repo, '--sandbox', 'none'],
      scriptByRole({
        solver: [
          tools(
            shell(
              [
                'git mv docs/old_name.txt docs/new_name.txt',
                'mkdir -p lib && mv src/moved.txt lib/moved.txt && printf "one more line\\n" >> lib/moved.txt',
                'printf "final\\n" > "naïve notes/résumé 1.txt"',
                `node -e 'const fs=require("fs"); const b=fs.readFileSync("logo.bin"); b[0]^=0xff; b[300]=0; fs.writeFileSync("logo.bin", Buffer.concat([b, Buffer.from([0,1,2,255])]))'`,
              ].join(' && '),
            ),
          ),
          deliver('.', 'renamed and updated the logo'),
        ],
        'verifier*': [verdict('pass')],
      }),
    );
    expectDelivered(run);
    const { runId, runDir } = run;
    const project = join(runDir, 'project');

    const d = await runCli(['diff', runId], t.env);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^rename from docs\/old_name\.txt\nrename to docs\/new_name\.txt$/m);
    expect(d.stdout).toMatch(/^rename from src\/moved\.txt\nrename to lib\/moved\.txt$/m);
    expect(d.stdout).toContain('+one more line');
    expect(d.stdout).toContain('Binary files a/logo.bin and b/logo.bin differ');
    expect(diffHeaders(d.stdout).sort()).toEqual([
      'docs/old_name.txt → docs/new_name.txt',
      'logo.bin',
      'naïve notes/résumé 1.txt',
      'src/moved.txt → lib/moved.txt',
    ]);
    expect(d.stdout).toContain('diff --git a/naïve notes/résumé 1.txt b/naïve notes/résumé 1.txt\n');
    const stat = await runCli(['diff', runId, '--stat'], t.env);
    expect(stat.code).toBe(0);
    expect(stat.stdout).toContain('4 files changed');
    expect(stat.stdout).toMatch(/logo\.bin\s+\|\s+Bin 600 -> 604 bytes/);

    // The Verifier's summary: renames as renames, binary files without line counts.
    const change = JSON.parse(lastUserText(requestsOf(runId, 'verifier-a')[0]!)).change;
    expect(change.files).toEqual(
      expect.arrayContaining([
        { path: 'docs/old_name.txt → docs/new_name.txt', status: 'renamed', added: 0, removed: 0 },
        { path: 'src/moved.txt → lib/moved.txt', status: 'renamed', added: 1, removed: 0 },
        { path: 'logo.bin', status: 'modified', added: null, removed: null },
        { path: 'naïve notes/résumé 1.txt', status: 'modified', added: 1, removed: 1 },
      ]),
    );

    // apply to a clean clone: the same files, the binary byte-identical, the old names gone.
    const clean = join(work, 'rename-binary-clean');
    gitIn(work, 'clone', '-q', repo, clean);
    const applied = await runCli(['apply', runId, '--to', clean], t.env);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(workFiles(clean)).toEqual(workFiles(project));
    expect(existsSync(join(clean, 'docs', 'old_name.txt'))).toBe(false);
    expect(existsSync(join(clean, 'src', 'moved.txt'))).toBe(false);
    expect(readFileSync(join(clean, 'logo.bin')).equals(readFileSync(join(project, 'logo.bin')))).toBe(true);
    expect(readFileSync(join(clean, 'naïve notes', 'résumé 1.txt'), 'utf8')).toBe('final\n');
    // git in the clone sees the renames too.
    gitIn(clean, 'add', '-A');
    expect(gitIn(clean, 'diff', '--cached', '-M', '--name-status')).toMatch(/^R100\tdocs\/old_name\.txt\tdocs\/new_name\.txt$/m);

    // A checkout where the user edited the renamed files meanwhile (uncommitted): the three-way merge keeps both.
    const diverged = join(work, 'rename-binary-diverged');
    gitIn(work, 'clone', '-q', repo, diverged);
    writeFileSync(join(diverged, 'docs', 'old_name.txt'), long.replace('line 0 of the old file', 'line 0 EDITED BY THE USER'));
    writeFileSync(join(diverged, 'src', 'moved.txt'), long.replace(/old/g, 'other').replace('line 5 of', 'line 5 (user) of'));
    const merged = await runCli(['apply', runId, '--to', diverged], t.env);
    expect(merged.code, merged.stderr + merged.stdout).toBe(0);
    expect(existsSync(join(diverged, 'docs', 'old_name.txt'))).toBe(false);
    expect(readFileSync(join(diverged, 'docs', 'new_name.txt'), 'utf8')).toBe(long.replace('line 0 of the old file', 'line 0 EDITED BY THE USER'));
    expect(readFileSync(join(diverged, 'lib', 'moved.txt'), 'utf8')).toBe(
      `${long.replace(/old/g, 'other').replace('line 5 of', 'line 5 (user) of')}one more line\n`,
    );
    expect(readFileSync(join(diverged, 'logo.bin')).equals(readFileSync(join(project, 'logo.bin')))).toBe(true);
    expect(treeFingerprint(repo)).toEqual(userBefore);
  }, 240_000);

  // ── 8 ────────────────────────────────────────────────────────────────────────────────────────────

  it("a fork of a project run keeps the source's base: its diff is turn 1's change plus its own, and diff --at-turn 1 of the source is that turn's change", async () => {
    const repo = join(work, 'fork-src');
    makeRepo(repo, { 'a.txt': 'A0\n', 'b.txt': 'B0\n', 'c.txt': 'C0\n', 'AGENTS.md': 'FORK-DOC-z1\n' });
    gitIn(repo, 'commit', '--allow-empty', '-qm', 'second');
    // A CI-style checkout: HEAD detached at a commit that no branch names (so the copy's refs/ has no file at all).
    gitIn(repo, 'checkout', '-q', '--detach', 'HEAD~1');
    const head = gitIn(repo, 'rev-parse', 'HEAD');
    const source = await cliRun(
      ['--from', repo, '--sandbox', 'none'],
      scriptByRole({
        solver: [
          tools(shell('printf "A1\\n" > a.txt && ln -s a.txt link-to-a')),
          askDirection('question-1'),
          tools(shell('printf "B-source\\n" > b.txt')),
          askDirection('question-2'),
          deliver('.'),
        ],
        director: [directive('directive-1'), directive('directive-2')],
        'verifier*': [verdict('pass')],
      }),
    );
    expectDelivered(source);
    expect(runJsonOf(source.runId).project).toMatchObject({ commit: head, branch: null });
    for (const k of [1, 2, 3]) expect(existsSync(join(t.h.home, 'snapshots', source.runId, `turn-${k}.json`)), `turn ${k}`).toBe(true);
    // Turns 2 and 3 are deltas (decision 13): `diff --at-turn 2` and `3` below resolve them.
    for (const k of [2, 3])
      expect(JSON.parse(readFileSync(join(t.h.home, 'snapshots', source.runId, `turn-${k}.json`), 'utf8')), `turn ${k}`).toMatchObject({ parent: k - 1 });

    const fork = uniqueId('pdc-fork');
    t.scripts.set(
      fork,
      scriptByRole({
        solver: [
          tools(shell('git status --porcelain && git log --format=%s | cat && cat a.txt b.txt && readlink link-to-a')),
          tools(shell('printf "C-fork\\n" > c.txt')),
          deliver('.'),
        ],
        'verifier*': [verdict('pass')],
      }),
    );
    const f = await runCli(['fork', source.runId, '--at-turn', '1', '--run-id', fork, '--json'], t.env, 180_000);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout.trim().split('\n').pop()!).status).toBe('delivered');
    const forkDir = join(t.h.runsRoot, fork);
    const forkProject = join(forkDir, 'project');

    // The fork's record names its own directory; the source's base and AGENTS.md came along.
    const forkJson = runJsonOf(fork);
    const sourceJson = runJsonOf(source.runId);
    expect(forkJson.project).toEqual({ ...sourceJson.project, root: forkProject, workdir: forkProject });
    expect(forkJson.project_docs).toEqual(sourceJson.project_docs);
    const base = (id: string) => JSON.parse(readFileSync(join(t.h.home, 'projects', id, 'base.json'), 'utf8'));
    expect(base(fork).files).toEqual(base(source.runId).files);
    expect((requestsOf(fork, 'verifier*')[0]!.body.instructions as string).endsWith(agentsText(source.runId))).toBe(true);

    // The fork's copy is turn 1's, and git works in it as in the source's copy.
    const forkSolver = requestsOf(fork, 'solver');
    const seen = lastToolOutput(forkSolver[1]!);
    expect(seen.metadata.exit_code, seen.output).toBe(0);
    expect(seen.output).toContain(' M a.txt');
    expect(seen.output).toContain('?? link-to-a');
    expect(seen.output).toMatch(/^initial$/m);
    expect(seen.output).not.toContain('second');
    expect(seen.output).toContain('A1\nB0\n');
    expect(lstatSync(join(forkProject, 'link-to-a')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(forkProject, 'link-to-a'))).toBe('a.txt');

    // Every diff at once (they share the runs' caches): the fork's, the fork's as of its own turn 1, the source's as of each turn and now.
    const [fd, forkAt1, at1, at2, at3, final] = await Promise.all([
      runCli(['diff', fork], t.env),
      runCli(['diff', fork, '--at-turn', '1'], t.env),
      runCli(['diff', source.runId, '--at-turn', '1'], t.env),
      runCli(['diff', source.runId, '--at-turn', '2'], t.env),
      runCli(['diff', source.runId, '--at-turn', '3'], t.env),
      runCli(['diff', source.runId], t.env),
    ]);
    for (const r of [fd, forkAt1, at1, at2, at3, final]) expect(r.code, r.stderr).toBe(0);
    // infty diff FORK: turn 1's change and the fork's own, against the same base; not the source's later change.
    expect(diffHeaders(fd.stdout).sort()).toEqual(['a.txt', 'c.txt', 'link-to-a']);
    expect(fd.stdout).toContain('-A0\n+A1');
    expect(fd.stdout).toContain('-C0\n+C-fork');
    expect(fd.stdout).not.toContain('B-source');
    // The fork counts its own turns: its turn 1 (its only one) is its whole change, against the same base.
    expect(forkAt1.stdout).toBe(fd.stdout);
    // infty diff SOURCE --at-turn K: the change as of each turn; the last turn's is the final change.
    expect(diffHeaders(at1.stdout).sort()).toEqual(['a.txt', 'link-to-a']);
    expect(at1.stdout).toMatch(/^new file mode 120000$/m);
    expect(at1.stdout).not.toContain('B-source');
    expect(diffHeaders(at2.stdout).sort()).toEqual(['a.txt', 'b.txt', 'link-to-a']);
    expect(final.stdout).toBe(at2.stdout);
    expect(at3.stdout).toBe(final.stdout);
    // The fork's change as of turn 1 is the source's: the same patch for the files they share.
    const part = (patch: string, file: string) => patch.split(/^(?=diff --git )/m).find((p) => p.startsWith(`diff --git a/${file} `));
    for (const file of ['a.txt', 'link-to-a']) expect(part(fd.stdout, file), file).toBe(part(at1.stdout, file));

    // The fork's change applies to a clean clone of the user's repository.
    const clean = join(work, 'fork-clean');
    gitIn(work, 'clone', '-q', repo, clean);
    const applied = await runCli(['apply', fork, '--to', clean], t.env);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(workFiles(clean)).toEqual(workFiles(forkProject));
  }, 300_000);

  // ── 9 ────────────────────────────────────────────────────────────────────────────────────────────

  it('bad input: diff/apply of a run without a project, an unknown run, a non-checkout target, a URL run without --to, a turn it never had', async () => {
    const repo = join(work, 'bad-input');
    makeRepo(repo, { 'f.txt': 'one\n' });
    const repoBefore = treeFingerprint(repo);
    const [plain, run, fromGit] = await Promise.all([
      cliRun(
        ['--sandbox', 'none'],
        scriptByRole({
          solver: [tools(shell('mkdir -p deliverable && echo x > deliverable/x.txt')), deliver('deliverable/x.txt')],
          'verifier*': [verdict('pass')],
        }),
      ),
      cliRun(
        ['--from', repo, '--sandbox', 'none'],
        scriptByRole({ solver: [tools(shell('printf "two\\n" > f.txt')), deliver('.')], 'verifier*': [verdict('pass')] }),
      ),
      cliRun(
        ['--from-git', `file://${repo}`, '--sandbox', 'none'],
        scriptByRole({ solver: [tools(shell('printf "three\\n" > f.txt')), deliver('.')], 'verifier*': [verdict('pass')] }),
      ),
    ]);
    for (const r of [plain, run, fromGit]) expectDelivered(r);

    // Targets that are not checkouts: a plain directory, a bare repository, a missing path.
    const target = join(work, 'not-a-checkout');
    writeTree(target, { 'f.txt': 'one\n' });
    const before = treeFingerprint(target);
    const bare = join(work, 'bare.git');
    gitIn(work, 'clone', '-q', '--bare', repo, bare);
    const bareBefore = treeFingerprint(bare);
    const turns = ['99', '0', 'abc', '-1'];
    const cases: [string, string[], string | RegExp | undefined][] = [
      ['diff of a run without a project', ['diff', plain.runId], /did not start from a project/],
      ['apply of a run without a project', ['apply', plain.runId, '--check'], /did not start from a project/],
      ['diff of an unknown run', ['diff', 'no-such-run'], /no run "no-such-run"/],
      ['apply of an unknown run', ['apply', 'no-such-run', '--to', work], /no run "no-such-run"/],
      ['an invalid run id', ['diff', '../escape'], undefined],
      ['apply to a plain directory', ['apply', run.runId, '--to', target], `${target} is not a git checkout`],
      ['apply to a bare repository', ['apply', run.runId, '--to', bare], /is not a git checkout/],
      ['apply to a missing path', ['apply', run.runId, '--to', join(work, 'missing-dir')], /does not exist/],
      ['apply of a URL run without --to', ['apply', fromGit.runId], /--to PATH/],
      ...turns.map((turn): [string, string[], string | RegExp | undefined] => [
        `--at-turn ${turn}`,
        ['diff', run.runId, '--at-turn', turn],
        turn === '99' ? /no snapshot of Solver turn 99/ : undefined,
      ]),
    ];
    const results = await Promise.all(cases.map(([, args]) => runCli(args, t.env)));
    results.forEach((r, i) => {
      const [what, , message] = cases[i]!;
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stdout, what).toBe('');
      if (typeof message === 'string') expect(r.stderr, what).toContain(message);
      else if (message) expect(r.stderr, what).toMatch(message);
    });
    // Nothing was written anywhere.
    expect(treeFingerprint(target)).toEqual(before);
    expect(treeFingerprint(bare)).toEqual(bareBefore);
    expect(treeFingerprint(repo)).toEqual(repoBefore);
    expect(existsSync(join(work, 'missing-dir'))).toBe(false);

    // The URL run's change does apply where --to names a checkout.
    const clone = join(work, 'bad-input-clone');
    gitIn(work, 'clone', '-q', repo, clone);
    const ok = await runCli(['apply', fromGit.runId, '--to', clone], t.env);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    expect(readFileSync(join(clone, 'f.txt'), 'utf8')).toBe('three\n');
  }, 300_000);

  // ── 10 ───────────────────────────────────────────────────────────────────────────────────────────

  it("under the bubblewrap sandbox the Solver commits in its copy, and cannot write to the user's repository", async () => {
    expect(execFileSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).trim()).not.toBe('');
    // Outside /tmp, which the sandbox replaces with a private one: the user's repository is visible (read-only) to the Solver.
    const outside = mkdtempSync(join('/var/tmp', 'infty-pdc-user-'));
    try {
      const repo = join(outside, 'repo');
      makeRepo(repo, { 'app.txt': 'v1\n' });
      writeFileSync(join(repo, 'app.txt'), 'v1\nuncommitted\n');
      const userBefore = treeFingerprint(repo);
      const userHead = gitIn(repo, 'rev-parse', 'HEAD');
      const id = '-c user.name=Solver -c user.email=s@example.com';
      const run = await cliRun(
        ['--from', repo, '--sandbox', 'auto'],
        scriptByRole({
          solver: [
            tools(shell(`printf "v2\\n" > app.txt && git add -A && git ${id} commit -qm "solver commit" && git log --format=%s | cat`)),
            tools(shell(`cat ${repo}/app.txt && git -C ${repo} ${id} commit --allow-empty -m x`)),
            tools(shell(`touch ${repo}/pwned`)),
            tools(shell(`git push ${repo} HEAD:refs/heads/pwned`)),
            tools(shell(`git -C ${repo} ${id} stash`)),
            deliver('.'),
          ],
          'verifier*': [verdict('pass')],
        }),
      );
      expectDelivered(run);
      const solver = requestsOf(run.runId, 'solver');
      expect(solver).toHaveLength(6);
      const committed = lastToolOutput(solver[1]!);
      expect(committed.metadata.exit_code, committed.output).toBe(0);
      expect(committed.output).toContain('solver commit\ninitial');
      // The user's repository is visible (so the failures are refusals, not a missing path) and every write fails.
      const commit = lastToolOutput(solver[2]!);
      expect(commit.output).toContain('v1\nuncommitted');
      expect(commit.metadata.exit_code).not.toBe(0);
      expect(commit.output).toMatch(/Read-only file system|unable to|insufficient permission|cannot/i);
      const touch = lastToolOutput(solver[3]!);
      expect(touch.metadata.exit_code).not.toBe(0);
      expect(touch.output).toMatch(/Read-only file system/);
      for (const k of [4, 5]) {
        const out = lastToolOutput(solver[k]!);
        expect(out.metadata.exit_code, out.output).not.toBe(0);
      }

      // The user's repository, .git included, is byte for byte as it was; the copy has the Solver's commit.
      expect(treeFingerprint(repo)).toEqual(userBefore);
      expect(gitIn(repo, 'rev-parse', 'HEAD')).toBe(userHead);
      expect(existsSync(join(repo, 'pwned'))).toBe(false);
      const project = join(run.runDir, 'project');
      expect(gitIn(project, 'log', '--format=%s')).toBe('solver commit\ninitial');
      expect(existsSync(join(project, '.git', 'objects', 'info', 'alternates'))).toBe(false);
      expect(gitIn(project, 'remote')).toBe('');
      // The change against the base counts the committed work.
      const d = await runCli(['diff', run.runId], t.env);
      expect(d.code, d.stderr).toBe(0);
      expect(diffHeaders(d.stdout)).toEqual(['app.txt']);
      expect(d.stdout).toContain('-uncommitted');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  }, 240_000);
  // ── 11 ───────────────────────────────────────────────────────────────────────────────────────────

  it('repositories the Solver makes inside the project (git init, a committed dependency) count by their files', async () => {
    const repo = join(work, 'nested-repos');
    makeRepo(repo, { 'main.txt': 'main\n', '.gitignore': '*.log\n' });
    const id = '-c user.name=Solver -c user.email=s@example.com';
    const run = await cliRun(
      ['--from', repo, '--sandbox', 'none'],
      scriptByRole({
        solver: [
          // A new package whose tool ran `git init` (no commit yet), and a vendored dependency with its own history.
          tools(shell('mkdir -p pkg && cd pkg && git init -q && printf "x\\n" > x.txt && printf "noise\\n" > debug.log')),
          tools(
            shell(
              `mkdir -p vendor/dep/inner && cd vendor/dep && git init -q && printf "dep\\n" > dep.txt && git add -A && git ${id} commit -qm dep && cd inner && git init -q && printf "in\\n" > in.txt`,
            ),
          ),
          askDirection('is a vendored dependency fine?'),
          deliver('.'),
        ],
        director: [directive('yes')],
        'verifier*': [verdict('pass')],
      }),
    );
    expectDelivered(run);
    const expected = ['pkg/x.txt', 'vendor/dep/dep.txt', 'vendor/dep/inner/in.txt'];
    const direction = JSON.parse(lastUserText(requestsOf(run.runId, 'director')[0]!));
    expect(direction.change.files.map((f: { path: string }) => f.path).sort()).toEqual(expected);
    const verification = JSON.parse(lastUserText(requestsOf(run.runId, 'verifier-a')[0]!));
    expect(verification.change.files).toEqual(expected.map((path) => ({ path, status: 'added', added: 1, removed: 0 })));

    const d = await runCli(['diff', run.runId], t.env);
    expect(d.code, d.stderr).toBe(0);
    expect(diffHeaders(d.stdout).sort()).toEqual(expected);
    expect(d.stdout).not.toContain('Subproject commit');
    expect(d.stdout).not.toContain('debug.log');
    // The turn's snapshot (nested .git directories and all) gives the same change.
    const at1 = await runCli(['diff', run.runId, '--at-turn', '1'], t.env);
    expect(at1.code, at1.stderr).toBe(0);
    expect(at1.stdout).toBe(d.stdout);

    const clean = join(work, 'nested-repos-clean');
    gitIn(work, 'clone', '-q', repo, clean);
    const applied = await runCli(['apply', run.runId, '--to', clean], t.env);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(readFileSync(join(clean, 'pkg', 'x.txt'), 'utf8')).toBe('x\n');
    expect(readFileSync(join(clean, 'vendor', 'dep', 'dep.txt'), 'utf8')).toBe('dep\n');
    expect(readFileSync(join(clean, 'vendor', 'dep', 'inner', 'in.txt'), 'utf8')).toBe('in\n');
    expect(existsSync(join(clean, 'pkg', 'debug.log'))).toBe(false);
  }, 240_000);

  // ── 12 ───────────────────────────────────────────────────────────────────────────────────────────

  it('a change of more files than the summary lists: Verifiers see 200 files and how many more', async () => {
    const repo = join(work, 'many-files');
    makeRepo(repo, { 'README.md': '# many\n' });
    const run = await cliRun(
      ['--from', repo, '--sandbox', 'none'],
      scriptByRole({
        solver: [tools(shell('mkdir -p gen && for i in $(seq -w 1 230); do echo "file $i" > gen/f$i.txt; done')), deliver('.')],
        'verifier*': [verdict('pass')],
      }),
    );
    expectDelivered(run);
    const change = JSON.parse(lastUserText(requestsOf(run.runId, 'verifier-a')[0]!)).change;
    expect(change).toMatchObject({ files_changed: 230, lines_added: 230, lines_removed: 0, more_files: 30 });
    expect(change.files).toHaveLength(200);
    expect(change.files[0]).toEqual({ path: 'gen/f001.txt', status: 'added', added: 1, removed: 0 });
    const stat = await runCli(['diff', run.runId, '--stat'], t.env);
    expect(stat.stdout).toContain('230 files changed, 230 insertions(+)');
  }, 240_000);
});
