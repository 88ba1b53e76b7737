/**
 * `infty worker` tries bubblewrap once at its start (docs/behaviour.md §7.3). Host sysctls cannot
 * be changed here, so bwrap is made to fail as it does on a host that refuses unprivileged user
 * namespaces (a `bwrap` first on PATH that prints bwrap's own error and exits 1), or is left off
 * PATH; the real bwrap is the success path.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { conversationOf } from '../src/fakeModel/conversation';
import { runCli } from './support/cli';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { outcomeWithin } from './support/outcome';
import { deliver, shell, tools, verdict } from './support/replies';
import { modelReplies } from './support/stepScript';
import { killAllStartedWorkers, removePinnedWorkflowBundle, WorkerGroup, workerEnv } from './support/workerProcess';

/** What bubblewrap prints when the kernel refuses it a user namespace (e.g. Ubuntu 24.04's AppArmor restriction). */
const USERNS_REFUSED = 'bwrap: setting up uid map: Permission denied';

const scratch = mkdtempSync(join(tmpdir(), 'infty-worker-sandbox-'));

/** A directory whose `bwrap` fails exactly like bwrap on such a host, first on PATH. */
function refusingBwrapPath(): string {
  const dir = join(scratch, 'refusing');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bwrap'), `#!/bin/sh\necho '${USERNS_REFUSED}' >&2\nexit 1\n`);
  chmodSync(join(dir, 'bwrap'), 0o755);
  return [dir, process.env.PATH].join(delimiter);
}

/** A PATH with every program of the current one except bwrap (symlinks in one directory). */
function pathWithoutBwrap(): string {
  const dir = join(scratch, 'no-bwrap');
  mkdirSync(dir, { recursive: true });
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d || !existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (name === 'bwrap' || existsSync(join(dir, name))) continue;
      try {
        if (statSync(join(d, name)).isFile()) symlinkSync(join(d, name), join(dir, name));
      } catch {
        // a dangling link: not a program
      }
    }
  }
  return dir;
}

describe('infty worker checks its sandbox at start', () => {
  const address = inject('temporalAddress');
  const group = new WorkerGroup();
  let model: FakeModelServer;
  let refusing: string;
  let noBwrap: string;
  const marker = join(scratch, 'outside-the-run-dir');

  beforeAll(async () => {
    refusing = refusingBwrapPath();
    noBwrap = pathWithoutBwrap();
    // The Solver writes outside its run directory (only an unsandboxed command can), then delivers.
    model = await startFakeModelServer({
      responder: async (req: RecordedRequest): Promise<ScriptedReply> => {
        if (req.role !== 'solver') return verdict('pass', ['ok']);
        return modelReplies(conversationOf(req)) === 0 ? tools(shell(`echo $PPID > ${marker} && echo done > out.txt`)) : deliver('out.txt');
      },
    });
  });

  afterAll(async () => {
    await group.killAll();
    await killAllStartedWorkers();
    await model?.close();
    removePinnedWorkflowBundle();
    rmSync(scratch, { recursive: true, force: true });
  });

  const cliEnv = (extra: Record<string, string>) => ({
    TEMPORAL_ADDRESS: address,
    INFTY_TASK_QUEUE: uniqueId('tq-sandbox'),
    INFTY_HOME: join(scratch, uniqueId('home')),
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'test',
    ...extra,
  });

  it('does not start when bwrap is installed but cannot create namespaces, and names the host setting', async () => {
    const r = await runCli(['worker'], cliEnv({ PATH: refusing }), 30_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("this worker cannot sandbox the Solver's commands, so it does not start");
    expect(r.stderr).toContain(`bubblewrap is installed (${join(scratch, 'refusing', 'bwrap')}) but cannot create its namespaces`);
    expect(r.stderr).toContain('setting up uid map: Permission denied');
    expect(r.stderr).toContain('kernel.apparmor_restrict_unprivileged_userns');
    expect(r.stderr).toContain('user.max_user_namespaces');
    expect(r.stderr).toContain('INFTY_SANDBOX=none');
    expect(r.stderr).not.toMatch(/apt-get|dnf install|apk add/);
    expect(r.stderr).not.toContain('worker polling task queue');
  });

  it('in the image, says the fix is on the Docker host and in the container options', async () => {
    const r = await runCli(['worker'], cliEnv({ PATH: refusing, INFTY_IN_IMAGE: '1' }), 30_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('On the Docker host, unprivileged user namespaces');
    expect(r.stderr).toContain('seccomp=deploy/seccomp-bwrap.json');
    expect(r.stderr).not.toMatch(/apt-get|rebuild/);
  });

  it('does not start without bwrap, and says to install it (outside the image) or rebuild the image (inside)', async () => {
    const r = await runCli(['worker'], cliEnv({ PATH: noBwrap }), 30_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('bubblewrap (bwrap) is not installed');
    expect(r.stderr).toContain('apt-get install bubblewrap');
    expect(r.stderr).not.toContain('namespaces');
    const inImage = await runCli(['worker'], cliEnv({ PATH: noBwrap, INFTY_IN_IMAGE: '1' }), 30_000);
    expect(inImage.code, inImage.stderr).toBe(2);
    expect(inImage.stderr).toContain("missing from this image, although the project's Dockerfile installs it: rebuild the image");
  });

  it('`infty create` with its own worker refuses a run that asks for the sandbox up front, naming the host setting', async () => {
    const r = await runCli(['create', '--detach', '--objective', 'Write done to out.txt'], cliEnv({ PATH: refusing }), 60_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('no working sandbox for shell commands: bubblewrap is installed');
    expect(r.stderr).toContain('kernel.apparmor_restrict_unprivileged_userns');
    expect(r.stderr).toContain('Or pass --sandbox none');
    expect(r.stderr).not.toMatch(/apt-get/);
  });

  it('refuses an INFTY_SANDBOX or a command limit it does not understand', async () => {
    const r = await runCli(['worker'], cliEnv({ PATH: process.env.PATH ?? '', INFTY_SANDBOX: 'off' }), 30_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('INFTY_SANDBOX must be "auto"');
    const limits = await runCli(['worker'], cliEnv({ PATH: process.env.PATH ?? '', INFTY_COMMAND_MAX_MEMORY: 'lots' }), 30_000);
    expect(limits.code, limits.stderr).toBe(2);
    expect(limits.stderr).toContain('INFTY_COMMAND_MAX_MEMORY must be bytes or a size such as 512m or 4g');
  });

  it('with INFTY_SANDBOX=none starts, says so, runs --sandbox none runs unsandboxed and fails runs that ask for the sandbox at their start', async () => {
    const taskQueue = uniqueId('tq-nosandbox');
    const home = join(scratch, uniqueId('home'));
    const worker = await group.start(
      workerEnv({ address, taskQueue, home, modelBaseUrl: model.baseUrl }, { PATH: refusing, INFTY_SANDBOX: 'none', INFTY_STORAGE: 'shared' }),
    );
    expect(worker.output()).toContain('WARNING: NO SANDBOX. INFTY_SANDBOX=none');
    expect(worker.output()).toContain('setting up uid map: Permission denied');

    const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
    try {
      const unsandboxed = uniqueId('none');
      await infty.startRun({ runId: unsandboxed, objective: 'Write done to out.txt and deliver it.', sandbox: 'none' });
      const delivered = await outcomeWithin(infty, unsandboxed, 60_000, () => worker.output());
      expect(delivered.status).toBe('delivered');
      // Written outside the run directory by a process of the host's pid namespace: no sandbox.
      expect(Number(readFileSync(marker, 'utf8').trim())).toBeGreaterThan(1);
      expect(JSON.parse(readFileSync(join(home, 'runs', unsandboxed, 'run.json'), 'utf8')).sandbox).toBe('none');

      rmSync(marker, { force: true });
      const asksForSandbox = uniqueId('auto');
      await infty.startRun({ runId: asksForSandbox, objective: 'Write done to out.txt and deliver it.' });
      const refused = await outcomeWithin(infty, asksForSandbox, 60_000, () => worker.output());
      expect(refused.status).toBe('failed');
      expect(refused.status === 'failed' && refused.reason).toMatch(/no working sandbox for shell commands on worker .*cannot create its namespaces/);
      expect(existsSync(marker)).toBe(false);
      expect(model.requests.filter((r) => r.runId === asksForSandbox)).toHaveLength(0);
    } finally {
      await infty.close();
      await worker.stop();
    }
  });

  it('with a working bubblewrap starts without a warning', async () => {
    const worker = await group.start(
      workerEnv({ address, taskQueue: uniqueId('tq-bwrap'), home: join(scratch, uniqueId('home')), modelBaseUrl: model.baseUrl }),
    );
    expect(worker.output()).not.toContain('WARNING');
    expect(worker.output()).not.toContain('sandbox');
    await worker.stop();
  });
});
