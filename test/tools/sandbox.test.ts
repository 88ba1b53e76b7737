import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { detectSandbox, wrapCommand } from '../../src/activities/tools/sandbox';
import { shellTool } from '../../src/activities/tools/shell';
import { type ShellWire, shellWire } from './support/results';

describe('wrapCommand', () => {
  it('passes the command through without a sandbox', () => {
    expect(wrapCommand('none', ['bash', '-lc', 'ls'], { runDir: '/r', cwd: '/r/x', allowNetwork: false })).toEqual({
      file: 'bash',
      args: ['-lc', 'ls'],
    });
  });

  it('builds bwrap arguments', () => {
    const { file, args } = wrapCommand('bwrap', ['bash', '-lc', 'ls'], { runDir: '/r', cwd: '/r/x', allowNetwork: false });
    expect(file).toBe('bwrap');
    const joined = args.join(' ');
    expect(joined).toContain('--ro-bind / /');
    expect(joined).toContain('--dev /dev');
    expect(joined).toContain('--proc /proc');
    expect(joined).toContain('--tmpfs /tmp');
    expect(joined).toContain('--bind /r /r');
    expect(args.indexOf('--tmpfs')).toBeLessThan(args.indexOf('--bind'));
    expect(args).toContain('--unshare-net');
    expect(args).toContain('--unshare-pid');
    expect(args).toContain('--die-with-parent');
    expect(args).toContain('--new-session');
    expect(joined).toContain('--chdir /r/x');
    expect(args.slice(-4)).toEqual(['--', 'bash', '-lc', 'ls']);
    const withNet = wrapCommand('bwrap', ['true'], { runDir: '/r', cwd: '/r', allowNetwork: true });
    expect(withNet.args).not.toContain('--unshare-net');
  });
});

const detection = await detectSandbox();

// These tests need a working bubblewrap (CI installs it); without one they fail with the reason.
describe('the shell tool under bwrap', () => {
  let runDir: string;
  let outsideDir: string;
  let server: net.Server;
  let port: number;
  let ctx: ToolContext;
  const run = (command: string[], extra: Partial<ToolContext> = {}): Promise<ShellWire> =>
    shellWire(shellTool({ command, timeout_ms: 20_000 }, { ...ctx, ...extra }));

  beforeAll(async () => {
    if (!detection.available) throw new Error(`bubblewrap is required for the sandbox tests: ${detection.reason}`);
    server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-bwrap-')));
    outsideDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-bwrap-outside-')));
    ctx = { runDir, sandbox: 'bwrap', allowNetwork: false };
  });
  afterEach(() => {
    rmSync(runDir, { recursive: true, force: true });
    rmSync(outsideDir, { recursive: true, force: true });
  });

  it('detects bwrap (cached)', async () => {
    expect(detection).toEqual({ available: true, bwrap: expect.stringMatching(/\/bwrap$/) });
    expect(await detectSandbox()).toBe(detection);
  });

  it('can write inside the run dir', async () => {
    const res = await run(['bash', '-c', 'mkdir -p sub && echo hi > sub/f.txt && cat sub/f.txt']);
    expect(res).toMatchObject({ output: 'hi\n', metadata: { exit_code: 0 } });
    expect(readFileSync(path.join(runDir, 'sub', 'f.txt'), 'utf8')).toBe('hi\n');
  });

  it('cannot write outside the run dir', async () => {
    const name = `infty-sandbox-${process.pid}-${Date.now()}`;
    for (const target of [path.join('/root', name), path.join('/etc', name), path.join(outsideDir, name)]) {
      const res = await run(['bash', '-c', `echo x > '${target}'`]);
      expect(res.metadata.exit_code, target).not.toBe(0);
      expect(existsSync(target), target).toBe(false);
    }
  });

  it('has a private /tmp', async () => {
    const name = `/tmp/infty-private-${process.pid}-${Date.now()}`;
    const res = await run(['bash', '-c', `echo secret > ${name} && cat ${name} && echo "$TMPDIR"`]);
    expect(res).toMatchObject({ output: 'secret\n/tmp\n', metadata: { exit_code: 0 } });
    expect(existsSync(name)).toBe(false);
  });

  it('has no network unless allowed', async () => {
    const connect = ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`];
    const blocked = await run(connect);
    expect(blocked.metadata.exit_code).not.toBe(0);
    expect(blocked.output).not.toContain('connected');
    const allowed = await run(connect, { allowNetwork: true });
    expect(allowed).toMatchObject({ output: 'connected\n', metadata: { exit_code: 0 } });
    const unsandboxed = await run(connect, { sandbox: 'none' });
    expect(unsandboxed).toMatchObject({ output: 'connected\n', metadata: { exit_code: 0 } });
  });

  it('reports a missing program as exit code 127', async () => {
    const res = await run(['definitely-not-a-program-xyz']);
    expect(res.metadata.exit_code).toBe(127);
  });

  it('kills sandboxed processes on timeout', async () => {
    const res = await shellWire(shellTool({ command: ['bash', '-c', 'sleep 37.125 & echo started; wait'], timeout_ms: 800 }, ctx));
    expect(res.metadata.exit_code).toBe(124);
    expect(res.output).toBe('command timed out after 800 ms\nstarted\n');
    // No sandboxed `sleep 37.125` survives (the PID namespace dies with bwrap).
    await new Promise((r) => setTimeout(r, 300));
    const ps = await shellWire(shellTool({ command: ['bash', '-c', 'pgrep -fx "sleep 37.125" || true'] }, { ...ctx, sandbox: 'none' }));
    expect(ps.output.trim()).toBe('');
  });
});
