/**
 * Ctrl+C, a second Ctrl+C, SIGTERM and SIGHUP on `infty run` in a real pseudo-terminal (util-linux
 * `script`), on the embedded default: the CLI starts the Temporal server and a worker itself. The
 * signal is the user's: the command exits with 128+signal within 2 s, leaves no process behind,
 * and the run stays in Temporal, inspectable with the server stopped and resumable by a worker.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { freePort, isTemporalReachable } from '../src/server';
import { requireTemporalCli } from '../src/temporalCli';
import { runCli } from './support/cli';
import { type FakeModelServer, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { addFile, deliver, tools } from './support/replies';
import { inTerminal, type Terminal } from './support/terminal';

const BIN = join(__dirname, '..', 'bin', 'infty.js');
const CTRL_C = '\x03';

/** A port P with P + 1000 (the embedded Web UI) free too. */
async function embeddedPort(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + 1000 > 65_535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p + 1000, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
}

/** Processes whose command line mentions `text` (the embedded server's names INFTY_HOME's database). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text)) found.push(`${entry}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until(what: string, check: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Setup {
  home: string;
  env: Record<string, string>;
  model: FakeModelServer;
  /** While true, every Solver request is answered only after a minute (a model call in flight). */
  holding: { on: boolean };
  close(): Promise<void>;
}

async function setup(): Promise<Setup> {
  const home = mkdtempSync(join(tmpdir(), 'infty-signals-'));
  const holding = { on: true };
  let served = 0;
  const model = await startFakeModelServer({
    responder: () => {
      if (holding.on) return { ...deliver('deliverable/never.txt'), latencyMs: 60_000 };
      served += 1;
      return served === 1 ? tools(addFile('deliverable/out.txt', ['resumed'])) : deliver('deliverable/out.txt', 'written after the interrupt');
    },
  });
  const env = {
    INFTY_HOME: home,
    INFTY_EMBEDDED_PORT: String(await embeddedPort()),
    INFTY_TASK_QUEUE: uniqueId('tq-signals'),
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'test-key',
  };
  return {
    home,
    env,
    model,
    holding,
    async close() {
      await model.close();
      for (const p of processesMentioning(home)) process.kill(Number(p.split(':')[0]), 'SIGKILL');
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Starts `infty run` in a terminal and waits until its Solver's first model call is in flight. */
async function runUntilModelCall(s: Setup, runId: string): Promise<Terminal> {
  const t = inTerminal(['run', '--sandbox', 'none', '--no-verifiers', '--run-id', runId, 'write out.txt'], s.env);
  await until('the first model call', () => s.model.requests.some((r) => r.runId === runId), 90_000, t.output);
  return t;
}

// One at a time: each brings up its own Temporal server, and exit times are measured.
describe.sequential('signals on a followed run (real pseudo-terminal, embedded server and worker)', () => {
  it('Ctrl+C once: exit 130 within 2 s, what to do next printed, no process left; the run is inspectable with the server stopped and a worker finishes it', async ({
    expect,
    onTestFinished,
  }) => {
    const s = await setup();
    onTestFinished(() => s.close());
    const runId = uniqueId('ctrlc');
    const t = await runUntilModelCall(s, runId);

    const sentAt = Date.now();
    t.type(CTRL_C);
    const { code, at } = await t.exited;
    const exitMs = at - sentAt;
    console.log(`signals: Ctrl+C → exit ${code} after ${exitMs} ms`);
    expect(code, t.output()).toBe(130);
    expect(exitMs).toBeLessThan(2_000);
    expect(t.output()).toContain(`stopped following run ${runId}`);
    expect(t.output()).toContain(`infty watch ${runId}`);
    expect(t.output()).toContain(`infty cancel ${runId}`);
    expect(t.output()).not.toMatch(/Connection refused|temporalio_client::retry/);
    expect(processesMentioning(s.home)).toEqual([]);

    // With no server running: `show` starts the embedded one, answers from what Temporal stores, and stops it again.
    const shownAt = Date.now();
    const shown = await runCli(['show', runId], s.env, 30_000);
    const showMs = Date.now() - shownAt;
    console.log(`signals: show with the server stopped and no worker: ${showMs} ms`);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`run:       ${runId} (running)`);
    expect(shown.stdout).toMatch(/status: +active/);
    expect(shown.stdout).toContain('live progress needs a worker');
    expect(shown.stdout).not.toMatch(/^\s*\{/m); // rendered, not raw JSON
    const goal = await runCli(['goal', runId, '--json'], s.env, 30_000);
    expect(goal.code, goal.stderr).toBe(0);
    expect(JSON.parse(goal.stdout)).toMatchObject({ objective: 'write out.txt', status: 'active', tokenBudget: null });
    expect(goal.stderr).toContain('no worker');
    expect(processesMentioning(s.home)).toEqual([]);

    // `watch` (which starts the embedded server again, and finds no worker) is left the same way.
    const w = inTerminal(['watch', runId], s.env);
    await until('watch to follow', () => processesMentioning(s.home).length > 0 && /waiting for a worker/.test(w.output()), 60_000, w.output);
    const watchSentAt = Date.now();
    w.type(CTRL_C);
    const watchExit = await w.exited;
    console.log(`signals: Ctrl+C on watch → exit ${watchExit.code} after ${watchExit.at - watchSentAt} ms`);
    expect(watchExit.code, w.output()).toBe(130);
    expect(watchExit.at - watchSentAt).toBeLessThan(2_000);
    expect(w.output()).toContain(`stopped following run ${runId}`);
    expect(processesMentioning(s.home)).toEqual([]);

    // Resumable: a worker (which starts the embedded server) finishes the run.
    s.holding.on = false;
    const worker = spawn(process.execPath, [BIN, 'worker'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_CLI: process.env.TEMPORAL_CLI, ...s.env },
      stdio: 'ignore',
    });
    onTestFinished(() => {
      worker.kill('SIGKILL');
    });
    await until(
      'the server the worker started',
      () => processesMentioning(s.home).length > 0,
      30_000,
      () => '',
    );
    const watched = await runCli(['watch', runId], s.env, 120_000);
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expect(readFileSync(join(s.home, 'runs', runId, 'deliverable', 'out.txt'), 'utf8')).toBe('resumed\n');
    worker.kill('SIGINT');
    await new Promise((r) => worker.once('close', r));
    await until(
      "the worker's server to stop",
      () => processesMentioning(s.home).length === 0,
      15_000,
      () => processesMentioning(s.home).join('\n'),
    );
  }, 240_000);

  it('Ctrl+C twice: exit 130 at once, no process left', async ({ expect, onTestFinished }) => {
    const s = await setup();
    onTestFinished(() => s.close());
    const t = await runUntilModelCall(s, uniqueId('ctrlc2'));
    const sentAt = Date.now();
    t.type(CTRL_C);
    t.type(CTRL_C);
    const { code, at } = await t.exited;
    expect(code, t.output()).toBe(130);
    expect(at - sentAt).toBeLessThan(2_000);
    await until(
      'no process left',
      () => processesMentioning(s.home).length === 0,
      2_000,
      () => processesMentioning(s.home).join('\n'),
    );
  }, 120_000);

  it('a server slow to stop on SIGTERM: Ctrl+C on run and on watch still exit 130 within 2 s, the server killed at the deadline', async ({
    expect,
    onTestFinished,
  }) => {
    const s = await setup();
    onTestFinished(() => s.close());
    // The Temporal CLI behind a script that holds SIGTERM off for 10 s; killing the script kills the server with it.
    const slowCli = join(s.home, 'slow-to-stop-temporal');
    writeFileSync(
      slowCli,
      ['#!/bin/sh', "trap 'sleep 10' TERM", 'setpriv --pdeathsig KILL -- "$REAL_TEMPORAL" "$@" &', 'server=$!', 'wait $server', 'wait $server', ''].join('\n'),
    );
    chmodSync(slowCli, 0o755);
    const env = { ...s.env, TEMPORAL_CLI: slowCli, REAL_TEMPORAL: await requireTemporalCli() };
    const runId = uniqueId('slowstop');
    const t = inTerminal(['run', '--sandbox', 'none', '--no-verifiers', '--run-id', runId, 'write out.txt'], env);
    await until('the first model call', () => s.model.requests.some((r) => r.runId === runId), 90_000, t.output);
    // Each started only after the one before exited: watch must start (and stop) a server of its own.
    for (const [what, start] of [
      ['run', () => t],
      ['watch', () => inTerminal(['watch', runId], env)],
    ] as const) {
      const term = start();
      await until(`${what} to follow`, () => /following its progress|waiting for a worker/.test(term.output()), 60_000, term.output);
      expect(term.output(), what).toContain('started the embedded dev server'); // each command has a server of its own to stop
      const sentAt = Date.now();
      term.type(CTRL_C);
      const { code, at } = await term.exited;
      console.log(`signals: Ctrl+C on ${what}, server slow to stop → exit ${code} after ${at - sentAt} ms`);
      expect(code, term.output()).toBe(130);
      expect(at - sentAt, what).toBeLessThan(2_000);
      expect(term.output()).toContain(`stopped following run ${runId}`);
      await until(
        'no process left',
        () => processesMentioning(s.home).length === 0,
        2_000,
        () => processesMentioning(s.home).join('\n'),
      );
      // A killed server's socket can outlive its command line for a moment: the next command must find no server.
      for (const deadline = Date.now() + 5_000; await isTemporalReachable(`127.0.0.1:${s.env.INFTY_EMBEDDED_PORT}`, 500); ) {
        if (Date.now() > deadline) throw new Error(`the server ${what} started still answers`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 240_000);

  for (const [signal, expected] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal}: exit ${expected} within 2 s, the server it started stopped, no process left`, async ({ expect, onTestFinished }) => {
      const s = await setup();
      onTestFinished(() => s.close());
      const runId = uniqueId(signal.toLowerCase());
      const t = await runUntilModelCall(s, runId);
      const pid = t.inftyPid();
      expect(pid).toBeDefined();
      expect(processesMentioning(s.home).length).toBeGreaterThan(0); // the embedded server runs
      const sentAt = Date.now();
      process.kill(pid!, signal);
      const { code, at } = await t.exited;
      console.log(`signals: ${signal} → exit ${code} after ${at - sentAt} ms`);
      expect(code, t.output()).toBe(expected);
      expect(at - sentAt).toBeLessThan(2_000);
      expect(t.output()).not.toMatch(/waiting for a worker|Connection refused/);
      expect(processesMentioning(s.home)).toEqual([]);
    }, 120_000);
  }
});
