/**
 * Issue 18: a worker killed while a project run's copy is being made (docs/behaviour.md §4.4). A
 * worker process with INFTY_FAILPOINTS=project.midCopy starts a run from a ~2,000-file git
 * repository and SIGKILLs itself after 200 files of the copy: nothing is at the run's place yet
 * (only the partial `.staging/<runId>`). A healthy worker then takes the retried `createRun` and
 * the run starts once (one run_started, one objective_posted, one Solver request) and delivers; the
 * copy is exactly what git lists in the source, byte for byte, with nothing of the crashed
 * attempt's staging directory in it; `.staging/<runId>` is gone; the user's repository is untouched.
 *
 * Storage: shared (INFTY_STORAGE=shared, one INFTY_HOME and INFTY_RUNS_ROOT for both workers), and
 * the healthy worker is another worker (its own INFTY_WORKER_ID). `createRun` goes to the shared
 * queue in either storage mode (in local storage, whoever takes it owns the run), so this is the
 * harder case: the retry runs on a different worker, which must clear the staging directory
 * another process left (and take over the dead attempt's lock on the run's fence) instead of
 * finding its own.
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FailpointName } from '../../src/activities/durable/failpoints';
import { InftyClient } from '../../src/client';
import type { RunOutcome } from '../../src/protocol/outcome';
import { type FakeModelServer, type Responder, startFakeModelServer } from '../support/fakeModel';
import { gitIn, makeRepo, treeFingerprint, writeTree } from '../support/gitRepo';
import { perRunResponder, uniqueId } from '../support/harness';
import { scriptByRole } from '../support/modelScript';
import { outcomeWithin } from '../support/outcome';
import { deliver, verdict } from '../support/replies';
import { sleep } from '../support/wait';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, workerEnv } from '../support/workerProcess';

const FAILPOINT: FailpointName = 'project.midCopy';
/** Files of the source repository (the failpoint fires after 200 of them are copied). */
const DIRS = 100;
const FILES_PER_DIR = 20;
const TO_FAILPOINT_MS = 60_000;
/** After the healthy worker starts: heartbeat timeout, the dead attempt's stale lock (10 s), the whole copy, the run. */
const TO_OUTCOME_MS = 120_000;

/** ~2,000 small text files of varied sizes in DIRS directories (a few nested), plus build files. */
function sourceFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'README.md': '# a project of many small files\n',
    '.gitignore': 'build/\n*.log\n',
  };
  for (let d = 0; d < DIRS; d++) {
    const dir = d % 10 === 0 ? `pkg${d}/nested/deeper` : `pkg${d}`;
    for (let f = 0; f < FILES_PER_DIR; f++) {
      const n = d * FILES_PER_DIR + f;
      files[`${dir}/file${f}.txt`] = `file ${n} of dir ${d}\n${'x'.repeat((n * 37) % 700)}\n`;
    }
  }
  return files;
}

/** Each scheduled activity of the run: its type, the attempt that closed it, and who started that attempt. */
async function activitiesOf(client: Client, runId: string): Promise<{ type: string; attempt: number; identity: string }[]> {
  const { events } = await client.workflow.getHandle(runId).fetchHistory();
  const byId = new Map<string, { type: string; attempt: number; identity: string }>();
  for (const e of events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) byId.set(String(e.eventId), { type: scheduled.activityType?.name ?? '', attempt: 0, identity: '' });
    const started = e.activityTaskStartedEventAttributes;
    const record = started && byId.get(String(started.scheduledEventId));
    if (started && record) {
      record.attempt = started.attempt ?? 0;
      record.identity = started.identity ?? '';
    }
  }
  return [...byId.values()];
}

/** Every path under `dir` (files and links, '/'-separated), `.git` left out. */
function filesOf(dir: string): string[] {
  return Object.keys(treeFingerprint(dir))
    .filter((p) => p !== '.git' && !p.startsWith('.git/'))
    .sort();
}

describe('a worker killed while a project copy is being made', () => {
  const address = inject('temporalAddress');
  const scripts = new Map<string, Responder>();
  const dirs: string[] = [];
  let model: FakeModelServer;

  beforeAll(async () => {
    model = await startFakeModelServer({ responder: perRunResponder(scripts) });
  });
  afterAll(async () => {
    await killAllStartedWorkers();
    await model?.close();
    removePinnedWorkflowBundle();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the run starts once, on a healthy worker, with the whole copy and nothing of the crashed attempt', async ({ onTestFinished }) => {
    const work = mkdtempSync(join(tmpdir(), 'infty-projcrash-'));
    dirs.push(work);
    const home = join(work, 'home');
    const runsRoot = join(work, 'runs');
    mkdirSync(home);

    // The user's repository: ~2,000 committed files, one untracked (copied), ignored ones (not copied).
    const repo = join(work, 'repo');
    makeRepo(repo, sourceFiles());
    writeTree(repo, { 'untracked.txt': 'untracked, not ignored\n', 'build/out.bin': 'ignored\n', 'debug.log': 'ignored\n' });
    const listed = gitIn(repo, 'ls-files', '--cached', '--others', '--exclude-standard').split('\n').sort();
    expect(listed.length).toBe(DIRS * FILES_PER_DIR + 3);
    expect(listed).toContain('untracked.txt');
    expect(listed).not.toContain('debug.log');
    const userBefore = treeFingerprint(repo);

    const runId = uniqueId('projcrash');
    const objective = 'Look at the project and deliver it as it is.';
    const script = scriptByRole({ solver: [deliver('.', 'the project, unchanged')], 'verifier*': [verdict('pass')] });
    scripts.set(runId, script);
    const taskQueue = uniqueId('tq-projcrash');
    const env = (workerId: string, extra: Record<string, string> = {}) =>
      workerEnv(
        { address, taskQueue, home, modelBaseUrl: model.baseUrl },
        { INFTY_RUNS_ROOT: runsRoot, INFTY_STORAGE: 'shared', INFTY_WORKER_ID: workerId, ...extra },
      );
    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    onTestFinished(() => infty.close());
    const workers = new WorkerGroup();
    onTestFinished(() => workers.killAll());

    // The doomed worker takes createRun and dies by SIGKILL at the failpoint, mid-copy.
    const doomedId = uniqueId('doomed');
    const doomed = await workers.start(env(doomedId, { INFTY_FAILPOINTS: FAILPOINT }));
    const t0 = Date.now();
    await infty.startRun({ runId, objective, verifiers: ['verifier-a'], sandbox: 'none', project: { path: repo, host: hostname() } });
    const result = infty.result(runId);
    result.catch(() => undefined);
    const first = await Promise.race([
      doomed.exited.then((x) => ({ kind: 'exited' as const, ...x })),
      result.then(
        (o: RunOutcome) => ({ kind: 'finished' as const, status: o.status }),
        (err: Error) => ({ kind: 'failed' as const, status: err.message }),
      ),
      sleep(TO_FAILPOINT_MS).then(() => ({ kind: 'timeout' as const })),
    ]);
    const killedAt = Date.now();
    expect(first.kind, `the failpoint was never reached: ${JSON.stringify(first)}\n${doomed.output()}`).toBe('exited');
    expect((first as { signal: string | null }).signal, doomed.output()).toBe('SIGKILL');
    expect(doomed.output()).toContain(`failpoint ${FAILPOINT}: killing worker process ${doomed.pid}\n`);
    expect(model.requests.filter((r) => r.runId === runId)).toEqual([]);

    // No run directory: only the crashed attempt's staging directory, with part of the copy.
    const runDir = join(runsRoot, runId);
    const staging = join(runsRoot, '.staging', runId);
    expect(existsSync(runDir)).toBe(false);
    expect(readdirSync(runsRoot)).toEqual(['.staging']);
    expect(readdirSync(join(runsRoot, '.staging'))).toEqual([runId]);
    expect(existsSync(join(staging, 'run.json'))).toBe(false);
    const partial = filesOf(join(staging, 'project'));
    expect(partial.length).toBeGreaterThanOrEqual(200);
    expect(partial.length).toBeLessThan(listed.length);

    // Debris in the crashed attempt's staging directory: a file the source does not have, a copied
    // file changed, and a file beside the project. None of it may reach the run.
    const changed = partial[0]!;
    writeFileSync(join(staging, 'project', 'LEFT-BY-CRASHED-ATTEMPT.txt'), 'debris\n');
    writeFileSync(join(staging, 'project', changed), 'not the source bytes\n');
    writeFileSync(join(staging, 'artifacts', 'left-by-crashed-attempt.txt'), 'debris\n');

    // A healthy worker (another identity, same storage) takes the retry; the run delivers.
    const healthyId = uniqueId('healthy');
    const healthy = await workers.start(env(healthyId));
    const healthyAt = Date.now();
    const outcome = await outcomeWithin(infty, runId, TO_OUTCOME_MS, () => `doomed worker:\n${doomed.output()}\nhealthy worker:\n${healthy.output()}`);
    console.log(
      `project.midCopy: killed after ${partial.length} of ${listed.length} files, ${((killedAt - t0) / 1000).toFixed(1)} s after the start; ` +
        `delivered ${((Date.now() - healthyAt) / 1000).toFixed(1)} s after the healthy worker started`,
    );
    const project = join(runDir, 'project');
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'delivered', deliverablePath: project });

    // It started once: one createRun (retried, closed by the healthy worker), one run_started, one
    // objective_posted, one Solver request with the project opening, and the script used up exactly.
    const creates = (await activitiesOf(infty.client, runId)).filter((a) => a.type === 'createRun');
    expect(creates).toHaveLength(1);
    console.log(`project.midCopy: createRun closed by attempt ${creates[0]!.attempt}`);
    expect(creates[0]!.attempt).toBeGreaterThanOrEqual(2);
    expect(creates[0]!.identity.startsWith(`${healthyId}:`), creates[0]!.identity).toBe(true);
    const progress = await infty.progress(runId);
    const kinds = progress.events.map((e) => e.kind);
    expect(progress.lastEventSeq).toBe(progress.events.length); // every event is in the list
    expect(kinds.filter((k) => k === 'run_started')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'objective_posted')).toHaveLength(1);
    expect(kinds[0]).toBe('run_started');
    const requests = model.requests.filter((r) => r.runId === runId);
    expect(requests.map((r) => `${r.role}:${r.status}`)).toEqual(['solver:completed', 'verifier-a:completed']);
    const solverInput = JSON.stringify(requests[0]!.body.input);
    expect(solverInput.split('copy of the user').length - 1).toBe(1);
    expect(solverInput.split(objective).length - 1).toBe(1);
    expect(script.remaining('solver')).toBe(0);
    expect(script.remaining('verifier-a')).toBe(0);

    // The copy: exactly the files git lists in the source, byte for byte (mode included); the
    // crashed attempt's debris is nowhere; the staging directory is gone.
    const sourcePrints = treeFingerprint(repo);
    const copyPrints = treeFingerprint(project);
    expect(filesOf(project)).toEqual(listed);
    for (const path of listed) expect(copyPrints[path], path).toBe(sourcePrints[path]);
    expect(readFileSync(join(project, changed), 'utf8')).not.toBe('not the source bytes\n');
    expect(existsSync(join(runDir, 'artifacts', 'left-by-crashed-attempt.txt'))).toBe(false);
    expect(existsSync(staging)).toBe(false);
    expect(readdirSync(join(runsRoot, '.staging'))).toEqual([]);
    expect(readdirSync(runsRoot).sort()).toEqual(['.staging', runId]);
    // The copy's own repository is the user's history, at the user's commit.
    expect(gitIn(project, 'rev-parse', 'HEAD')).toBe(gitIn(repo, 'rev-parse', 'HEAD'));
    expect(gitIn(project, 'status', '--porcelain')).toBe('?? untracked.txt');

    // The base record has every file, each with its source bytes' hash, each stored as an object.
    const base = JSON.parse(readFileSync(join(home, 'projects', runId, 'base.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    expect(base.files.map((f) => f.path).sort()).toEqual(listed);
    for (const f of base.files) {
      expect(sourcePrints[f.path]!.split(':')[1], f.path).toBe(f.sha256);
      expect(existsSync(join(home, 'objects', f.sha256.slice(0, 2), f.sha256)), f.path).toBe(true);
    }
    const runJson = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { project: { files: number; root: string } };
    expect(runJson.project).toMatchObject({ files: listed.length, root: project });

    // The user's repository, .git included, is byte for byte what it was.
    expect(treeFingerprint(repo)).toEqual(userBefore);
  }, 240_000);
});
