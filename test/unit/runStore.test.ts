import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type RunStoreDeps, runJsonFenceResource, updateRunRecord } from '../../src/activities/runStore';
import { readRunJson } from '../../src/host/runJson';
import { runNodeChild } from './support/nodeChild';

let root: string;
let deps: RunStoreDeps;
let n = 0;
const freshRunId = () => `run-store-${++n}`;
const input = (runId: string) => ({ runId, objective: 'test', roles: [{ role: 'solver', model: undefined }], sandbox: 'none' as const });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'infty-runstore-'));
  deps = { home: join(root, 'home'), runsRoot: join(root, 'runs'), defaultModel: 'm' };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('run.json writes', () => {
  it('a process killed at runStore.beforeRename leaves the previous run.json whole', async () => {
    const runId = freshRunId();
    await createRun(input(runId), deps, 'wf-1', 100);
    const runDir = join(deps.runsRoot, runId);
    const before = readFileSync(join(runDir, 'run.json'), 'utf8');
    const exit = await runNodeChild(
      `require('./src/activities/runStore')
         .updateRunRecord({ runId: ${JSON.stringify(runId)}, status: 'delivered' }, ${JSON.stringify(deps)}, 200)
         .then(() => console.log('updated'));`,
      { INFTY_FAILPOINTS: 'runStore.beforeRename' },
    );
    expect(exit.signal, exit.stderr).toBe('SIGKILL');
    expect(readFileSync(join(runDir, 'run.json'), 'utf8')).toBe(before);
    expect((await readRunJson(runDir))!.status).toBe('running');

    // The retry (a later attempt) takes over the dead attempt's lock and writes.
    await updateRunRecord({ runId, status: 'delivered' }, deps, 300);
    expect((await readRunJson(runDir))!.status).toBe('delivered');
  }, 40_000);

  it("an older attempt's update after a newer one's is dropped: run.json keeps the newer snapshot", async () => {
    const runId = freshRunId();
    await createRun(input(runId), deps, 'wf-1', 100);
    const runDir = join(deps.runsRoot, runId);
    await updateRunRecord({ runId, status: 'delivered' }, deps, 300);
    await updateRunRecord({ runId, status: 'running', extra: { stale: true } }, deps, 200);
    const runJson = (await readRunJson(runDir))!;
    expect(runJson.status).toBe('delivered');
    expect(runJson.stale).toBeUndefined();
  });

  it("a superseded createRun attempt fails with SupersededAttempt and does not touch its successor's run.json", async () => {
    const runId = freshRunId();
    await createRun(input(runId), deps, 'wf-1', 200);
    const before = readFileSync(join(deps.runsRoot, runId, 'run.json'), 'utf8');
    await expect(createRun(input(runId), deps, 'wf-1', 100)).rejects.toMatchObject({ type: 'SupersededAttempt' });
    expect(readFileSync(join(deps.runsRoot, runId, 'run.json'), 'utf8')).toBe(before);
  });

  it('keeps its fence and lock out of the run directory (the Solver workspace)', async () => {
    const runId = freshRunId();
    await createRun(input(runId), deps, 'wf-1', 100);
    await updateRunRecord({ runId, status: 'delivered' }, deps, 200);
    expect(readdirSync(join(deps.runsRoot, runId)).sort()).toEqual(['artifacts', 'deliverable', 'index', 'memory', 'run.json']);
    expect(readFileSync(`${runJsonFenceResource(deps.home, runId)}.fence`, 'utf8')).toBe('200');
  });

  it('outside an activity and without a token, writes are unfenced as before', async () => {
    const runId = freshRunId();
    const runDir = join(deps.runsRoot, runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ run_id: runId, status: 'running', roles: [] }));
    await updateRunRecord({ runId, status: 'failed' }, deps);
    expect((await readRunJson(runDir))!.status).toBe('failed');
    expect(existsSync(`${runJsonFenceResource(deps.home, runId)}.fence`)).toBe(false);
  });
});
