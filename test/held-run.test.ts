/**
 * A held run says what to do (issue 19, part 3): `infty run` against a model endpoint answering
 * 503, with the worker embedded in the CLI process, against the suite's real Temporal server.
 *
 * - the hold is printed with its reason and the exact next commands (`infty resume <id>`, which
 *   process reads OPENAI_BASE_URL), the terminal gets one line per failed attempt and no stack
 *   trace or task token, the details go to $INFTY_HOME/logs; following goes on, and once the
 *   endpoint answers again `infty resume` releases the run and it is delivered;
 * - `--exit-on-hold` exits 4 with the hold printed, the run stays running and held, and a worker
 *   started afterwards plus `infty resume` deliver it.
 *
 * The endpoint answers 503 with `retry-after-ms: 50`, which the worker honours (the retries then
 * come about a second apart), so the six attempts of a model call run out in about 5 s instead of
 * the default 31 s (1 + 2 + 4 + 8 + 16 s of backoff).
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { type CliResult, runCli } from './support/cli';
import { type FakeModelServer, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';
import { until } from './support/wait';
import { endWorkerProcessTests, pinnedWorkflowBundle, WorkerGroup, workerEnv } from './support/workerProcess';

/** The run input's default: attempts per model call before the run is held. */
const MODEL_MAX_ATTEMPTS = 6;

const DOWN: ScriptedReply = { kind: 'fault', fault: { kind: 'http', status: 503, message: 'upstream down', retryAfterMs: 50 } };

/** Per run: 503 while `broken`, then a Solver that writes and delivers a file. */
interface Endpoint {
  broken: boolean;
  script: RoleScriptResponder;
}

describe('a held run says what to do', () => {
  const address = inject('temporalAddress');
  const endpoints = new Map<string, Endpoint>();
  const workers = new WorkerGroup();
  let model: FakeModelServer;
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'infty-held-'));
    model = await startFakeModelServer({
      responder: (req) => {
        const e = req.runId ? endpoints.get(req.runId) : undefined;
        if (!e || e.broken) return DOWN; // the CLI's preflight (GET /models) too: any answer will do
        return e.script(req);
      },
    });
  });
  afterAll(() => endWorkerProcessTests({ workers, model, home }));

  /** A run id whose endpoint fails until `broken` is cleared; a task queue no worker polls, so the CLI embeds one. */
  function setUp(prefix: string) {
    const runId = uniqueId(prefix);
    const endpoint: Endpoint = { broken: true, script: scriptByRole({ solver: [tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] }) };
    endpoints.set(runId, endpoint);
    const taskQueue = uniqueId('tq-held');
    const env = {
      TEMPORAL_ADDRESS: address,
      INFTY_TASK_QUEUE: taskQueue,
      INFTY_HOME: home,
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: 'test-key',
      INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle(),
    };
    return { runId, endpoint, taskQueue, env };
  }

  /** What a user sees in the terminal must not hold the SDK's log. */
  function expectNoSdkNoise(r: CliResult, runId: string) {
    const terminal = `${r.stdout}\n${r.stderr}`;
    expect(terminal).not.toMatch(/^\s+at /m);
    expect(terminal).not.toContain('taskToken');
    expect(terminal).not.toContain('[WARN]');
    expect(terminal).not.toContain('Activity failed');
    const failures = r.stderr.split('\n').filter((l) => l.startsWith(`infty: worker: modelStep of run ${runId} failed (attempt `));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures.length).toBeLessThanOrEqual(MODEL_MAX_ATTEMPTS);
    for (const line of failures)
      expect(line).toMatch(/failed \(attempt \d\): the model endpoint failed \(HTTP 503\).*upstream down — details in .*worker-\d{8}\.log$/);
    return failures;
  }

  /** The file `worker logs: <file>` names: under $INFTY_HOME/logs (a 0700 directory), with the details the terminal left out. */
  function expectLogFile(r: CliResult, runId: string) {
    const file = /^infty: worker logs: (.+)$/m.exec(r.stderr)?.[1];
    expect(file, r.stderr).toMatch(new RegExp(`^${join(home, 'logs')}/worker-\\d{8}\\.log$`));
    expect(existsSync(file!)).toBe(true);
    expect(statSync(join(home, 'logs')).mode & 0o777).toBe(0o700);
    const log = readFileSync(file!, 'utf8');
    expect(log).toContain('Activity failed');
    expect(log).toContain(`workflowId: '${runId}'`);
    expect(log).toContain('taskToken');
    expect(log).toMatch(/^\s+at /m);
  }

  it('infty run prints the hold and the next commands, keeps the SDK log off the terminal, and follows on to delivery after infty resume', async () => {
    const { runId, endpoint, env } = setUp('held-follow');
    let resumed: Promise<CliResult> | undefined;
    const t0 = Date.now();
    let heldAfterMs = 0;
    const r = await runCli(['run', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', 'Write x'], env, 90_000, {
      onStdout: (soFar) => {
        if (resumed || !soFar.includes(`run ${runId} is held:`)) return;
        heldAfterMs = Date.now() - t0;
        // The endpoint is fixed; the worker is this process's, so `infty resume` is all it takes.
        endpoint.broken = false;
        resumed = runCli(['resume', runId], env);
      },
    });
    const resume = await resumed;
    console.log(`held run: hold printed ${(heldAfterMs / 1000).toFixed(1)} s after start`);
    expect(resume?.code, resume?.stderr).toBe(0);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

    // The hold block: the reason, which process reads the endpoint settings, the exact commands.
    const block = r.stdout.slice(r.stdout.indexOf(`run ${runId} is held:`));
    expect(block).toMatch(
      new RegExp(
        `^run ${runId} is held: model endpoint failing \\(the model endpoint failed \\(HTTP 503\\).*upstream down\\); fix it and resume the run$`,
        'm',
      ),
    );
    expect(block).toContain('this process runs the worker, so OPENAI_BASE_URL / OPENAI_API_KEY are read from');
    expect(block).toContain('Press Ctrl+C (the run stays held)');
    expect(block).toMatch(/^ +infty worker$/m);
    expect(block).toMatch(new RegExp(`^ +2\\. infty resume ${runId}$`, 'm'));
    expect(block).toMatch(new RegExp(`^ +3\\. infty watch ${runId}$`, 'm'));
    expect(block).toContain('(still following; Ctrl+C stops following and leaves the run held)');
    expect(r.stdout.split(`run ${runId} is held:`)).toHaveLength(2); // once per hold
    // Released, followed on, delivered.
    expect(r.stdout).toContain(`run ${runId} is no longer held (resumed)`);
    expect(r.stdout.indexOf('is no longer held')).toBeGreaterThan(r.stdout.indexOf('is held:'));
    expect(r.stdout).toMatch(/delivered/);

    const failures = expectNoSdkNoise(r, runId);
    expect(failures).toHaveLength(MODEL_MAX_ATTEMPTS);
    expect(r.stderr.match(/^infty: worker logs: /gm)).toHaveLength(1);
    expectLogFile(r, runId);
  });

  it('--exit-on-hold exits 4 with the hold printed; the run stays running and held, and a worker plus infty resume deliver it', async () => {
    const { runId, endpoint, taskQueue, env } = setUp('held-exit');
    const r = await runCli(['run', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--exit-on-hold', 'Write x'], env, 60_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(4);
    expect(r.stdout).toMatch(new RegExp(`^run ${runId} is held: model endpoint failing \\(.*HTTP 503.*\\); fix it and resume the run$`, 'm'));
    expect(r.stdout).toContain('OPENAI_BASE_URL / OPENAI_API_KEY');
    expect(r.stdout).toContain('its worker stops with it. In a shell with them fixed, start one:');
    expect(r.stdout).toMatch(new RegExp(`^ +2\\. infty resume ${runId}$`, 'm'));
    expect(r.stdout).toContain('(--exit-on-hold: stopped following, exit code 4; the run stays held until resumed)');
    expect(r.stdout).not.toMatch(/^(delivered|failed|cancelled|budget_exhausted)\b/m); // no summary: the run has not ended
    expectNoSdkNoise(r, runId);
    expectLogFile(r, runId);

    const client = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    try {
      // Still running, and held: what Temporal stores says so without a worker.
      const d = await client.describe(runId);
      expect(d.status.name).toBe('RUNNING');
      expect(d.searchAttributes.InftyGoalStatus).toEqual(['paused']);

      // The endpoint is fixed; a worker with it starts, then `infty resume` (the update needs a worker).
      endpoint.broken = false;
      await workers.start(workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }));
      const goal = await client.goal(runId);
      expect(goal.status).toBe('paused');
      expect(goal.statusReason).toMatch(/^model endpoint failing \(.*HTTP 503/);
      // `infty watch --exit-on-hold` of the held run: exit 4 at once; the endpoint belongs to `infty worker` here.
      const watched = await runCli(['watch', runId, '--exit-on-hold'], env, 30_000);
      expect(watched.code, `${watched.stdout}\n${watched.stderr}`).toBe(4);
      expect(watched.stdout).toMatch(new RegExp(`^run ${runId} is held: model endpoint failing`, 'm'));
      expect(watched.stdout).toContain('OPENAI_BASE_URL / OPENAI_API_KEY are read by the worker — the process running');
      expect(watched.stdout).toContain('`infty worker` (or the `infty run` that started one), not this command: set them there and restart it');
      expect(watched.stdout).toMatch(new RegExp(`^ +2\\. infty resume ${runId}$`, 'm'));
      expect(watched.stdout).not.toContain('Press Ctrl+C');
      const resumed = await runCli(['resume', runId], env);
      expect(resumed.code, resumed.stderr).toBe(0);
      const outcome = await until('the outcome', () => client.result(runId), 30_000);
      expect(outcome.status).toBe('delivered');
    } finally {
      await client.close();
    }
  });
});
