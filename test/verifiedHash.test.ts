/**
 * A pass is bound to what was verified (docs/behaviour.md §3.3): the outcome carries the content
 * hash every Verifier passed, a change after a passing round gets a new round, and `infty verify`
 * re-checks the deliverable on disk (docs/interface.md §1).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOutcome } from '../src/protocol/outcome';
import { freePort } from '../src/server';
import { runCli } from './support/cli';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, deliver, tools, verdict } from './support/replies';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

type Delivered = Extract<RunOutcome, { status: 'delivered' }>;

function delivered(o: RunOutcome): Delivered {
  expect(o.status, JSON.stringify(o)).toBe('delivered');
  return o as Delivered;
}

describe('verified hashes', () => {
  let h: Harness;
  let script: RoleScriptResponder;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => script(req) });
    env = { TEMPORAL_ADDRESS: h.address, INFTY_TASK_QUEUE: h.taskQueue, INFTY_HOME: h.home, INFTY_RUNS_ROOT: h.runsRoot };
  });
  afterAll(async () => h?.close());

  it('a deliverable changed after a passing round gets a new round on the new content', async () => {
    const runId = uniqueId('vh-changed');
    const file = join(h.runsRoot, runId, 'deliverable', 'out.txt');
    let verifiedFirst = '';
    script = scriptByRole({
      solver: [tools(addFile('deliverable/out.txt', ['v1'])), deliver('deliverable/out.txt')],
      'verifier-alpha': [
        () => {
          // The Verifier judged v1; the file changes before the round ends (the responder runs in this process).
          verifiedFirst = sha(readFileSync(file));
          writeFileSync(file, 'v2\n');
          return verdict('pass');
        },
        verdict('pass'),
      ],
    });
    const o = delivered((await h.run({ runId, objective: 'Changed after pass', verifiers: ['verifier-alpha'] })).outcome);
    const now = sha('v2\n');
    expect(verifiedFirst).not.toBe(now);
    expect(o.verifiedHash).toBe(now);
    expect(o.deliverable).toMatchObject({ kind: 'file', sha256: now });
    expect(o.verification.verifiedHash).toBe(now);
    expect(o.verification.verdicts.map((v) => v.verifiedHash)).toEqual([now]);
    const p = await h.infty.progress(runId);
    expect(p.verificationRounds).toBe(2);
    const changed = p.events.filter((e) => e.kind === 'deliverable_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.message).toContain(verifiedFirst);
    expect(changed[0]!.message).toContain(now);
  });

  it('a deliverable that keeps changing after passing rounds goes back to the Solver after maxConsecutiveErrors rounds', async () => {
    const runId = uniqueId('vh-unstable');
    const file = join(h.runsRoot, runId, 'deliverable', 'out.txt');
    let writes = 0;
    let told = false;
    const passAndTouch = () => {
      writes += 1;
      writeFileSync(file, `touched ${writes}\n`);
      return verdict('pass');
    };
    script = scriptByRole({
      solver: [
        tools(addFile('deliverable/out.txt', ['v1'])),
        deliver('deliverable/out.txt'),
        (req) => {
          told = JSON.stringify(req.body).includes('changed after each of 2 passing verification rounds');
          return deliver('deliverable/out.txt', 'stable now');
        },
      ],
      'verifier-alpha': [passAndTouch, passAndTouch, verdict('pass')],
    });
    const o = delivered((await h.run({ runId, objective: 'Unstable', verifiers: ['verifier-alpha'], maxConsecutiveErrors: 2 })).outcome);
    expect(o.verifiedHash).toBe(sha('touched 2\n'));
    expect(o.summary).toBe('stable now');
    expect(told).toBe(true);
    const p = await h.infty.progress(runId);
    expect(p.verificationRounds).toBe(3);
    expect(p.events.filter((e) => e.kind === 'deliverable_changed')).toHaveLength(2);
  });

  let fileRun = '';
  let dirRun = '';

  it('unchanged: the outcome carries the file sha256, or a directory manifest hash', async () => {
    fileRun = uniqueId('vh-file');
    script = scriptByRole({ solver: [tools(addFile('answer.txt', ['42'])), deliver('answer.txt')], 'verifier-alpha': [verdict('pass')] });
    const f = delivered((await h.run({ runId: fileRun, objective: 'A file', verifiers: ['verifier-alpha'] })).outcome);
    expect(f.verifiedHash).toBe(sha(readFileSync(join(h.runsRoot, fileRun, 'answer.txt'))));
    expect((await h.infty.progress(fileRun)).verificationRounds).toBe(1);

    dirRun = uniqueId('vh-dir');
    script = scriptByRole({ solver: [tools(addFile('deliverable/b.txt', ['bee']), addFile('deliverable/a/c.txt', ['sea'])), deliver('deliverable')] });
    const d = delivered((await h.run({ runId: dirRun, objective: 'A directory', verifiers: [] })).outcome);
    const root = join(h.runsRoot, dirRun, 'deliverable');
    // The manifest hash, computed independently: sha256 of the full manifest's canonical JSON.
    const entry = (path: string) => {
      const data = readFileSync(join(root, path));
      return `{"path":${JSON.stringify(path)},"sha256":"${sha(data)}","size":${data.length}}`;
    };
    expect(d.verifiedHash).toBe(sha(`[${entry(join('a', 'c.txt'))},${entry('b.txt')}]`));
    expect(d.verification.verifiedHash).toBe(d.verifiedHash);
  });

  it('infty verify: 0 unchanged, 1 changed with both hashes, 2 not delivered or unknown', async () => {
    const file = join(h.runsRoot, fileRun, 'answer.txt');
    const verified = sha(readFileSync(file));
    const ok = await runCli(['verify', fileRun], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`unchanged: ${file}`);
    expect(ok.stdout).toContain(verified);

    const show = await runCli(['show', fileRun], env);
    expect(show.stdout).toContain(`verified hash ${verified}`);

    writeFileSync(file, '43\n');
    const bad = await runCli(['verify', fileRun], env);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stdout).toContain(verified);
    expect(bad.stdout).toContain(sha('43\n'));
    const json = await runCli(['verify', fileRun, '--json'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: fileRun, kind: 'file', verifiedHash: verified, currentHash: sha('43\n'), unchanged: false });

    // A directory: which files changed, were added, were removed.
    const root = join(h.runsRoot, dirRun, 'deliverable');
    expect((await runCli(['verify', dirRun], env)).code).toBe(0);
    writeFileSync(join(root, 'b.txt'), 'changed\n');
    writeFileSync(join(root, 'new.txt'), 'new\n');
    rmSync(join(root, 'a'), { recursive: true });
    const dir = await runCli(['verify', dirRun, '--json'], env);
    expect(dir.code, dir.stderr).toBe(1);
    expect(JSON.parse(dir.stdout).diff).toEqual({ changed: ['b.txt'], added: ['new.txt'], removed: [join('a', 'c.txt')], partial: false });

    // Not delivered: three invalid deliveries fail the run.
    const failedRun = uniqueId('vh-failed');
    script = scriptByRole({ solver: [deliver('../x'), deliver('../x'), deliver('../x')] });
    expect((await h.run({ runId: failedRun, objective: 'Fails', verifiers: [] })).outcome.status).toBe('failed');
    const notDelivered = await runCli(['verify', failedRun], env);
    expect(notDelivered.code).toBe(2);
    expect(notDelivered.stderr).toContain('not delivered');
    const unknown = await runCli(['verify', uniqueId('vh-unknown')], env);
    expect(unknown.code).toBe(2);
  });

  it('infty verify reads the outcome from run.json when Temporal does not answer', async () => {
    writeFileSync(join(h.runsRoot, fileRun, 'answer.txt'), '42\n');
    const r = await runCli(['verify', fileRun], { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('run.json');
    // A run directory this machine does not see: exit 2, and the message says where to run it.
    const elsewhere = join(h.home, 'elsewhere');
    mkdirSync(join(elsewhere, fileRun), { recursive: true });
    writeFileSync(
      join(elsewhere, fileRun, 'run.json'),
      JSON.stringify({
        outcome: {
          runId: fileRun,
          status: 'delivered',
          deliverablePath: '/nonexistent/runs/x/answer.txt',
          summary: null,
          rawMessage: '',
          verification: { type: 'verification_feedback', overall: 'pass', verdicts: [] },
          verifiedHash: 'ab',
        },
      }),
    );
    const missing = await runCli(['verify', fileRun], { ...env, INFTY_RUNS_ROOT: elsewhere, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("run it where the run's directory is");
  });
});
