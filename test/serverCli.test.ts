import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, isTemporalReachable } from '../src/server';
import { runCli } from './support/cli';
import { until } from './support/wait';

const BIN = join(__dirname, '..', 'bin', 'infty.js');

function start(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

describe('infty server and infty worker', () => {
  const home = mkdtempSync(join(tmpdir(), 'infty-server-cli-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('serves a persistent dev server with a Web UI, refuses a second one on the same port, and both stop cleanly on Ctrl+C', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const env = { INFTY_HOME: home, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, INFTY_TASK_QUEUE: 'server-cli-test' };
    const server = start(['server', '--port', String(port), '--ui-port', String(uiPort)], env);
    children.push(server.child);
    await until('the server', () => server.output().includes(`Web UI: http://127.0.0.1:${uiPort}`) || undefined, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; exit code ${server.child.exitCode}; its output:\n${server.output()}`);
    });
    expect(await isTemporalReachable(`127.0.0.1:${port}`)).toBe(true);
    expect(existsSync(join(home, 'temporal.db'))).toBe(true);
    await until(
      'the Web UI',
      async () =>
        (await fetch(`http://127.0.0.1:${uiPort}/`)
          .then((r) => r.ok)
          .catch(() => false)) || undefined,
      30_000,
    );

    const second = await runCli(['server', '--port', String(port)], env);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);

    const worker = start(['worker'], env);
    children.push(worker.child);
    await until('the worker', () => worker.output().includes('worker polling task queue "server-cli-test"') || undefined, 30_000);
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('worker stopped');

    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(await isTemporalReachable(`127.0.0.1:${port}`)).toBe(false);
  }, 90_000);
});
