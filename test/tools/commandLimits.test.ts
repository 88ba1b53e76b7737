/**
 * Per-command process and memory limits (INFTY_COMMAND_MAX_PROCS, INFTY_COMMAND_MAX_MEMORY;
 * docs/behaviour.md §7.3), in both sandbox modes, on a stand-in worker process that must go on
 * after the command. The process limit is RLIMIT_NPROC, which the kernel does not apply to root,
 * so that worker runs as an unprivileged user, as the image's does.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { detectSandbox, type SandboxMode } from '../../src/activities/tools/sandbox';
import { commandLimitsFrom } from '../../src/host/commandLimits';
import { startToolWorkerCalls } from './support/toolWorker';

const NOBODY = 65534;
const detection = await detectSandbox();

interface ShellResult {
  output: string;
  metadata: { exit_code: number; duration_seconds: number };
}

const shellCall = (script: string, timeoutMs = 20_000): [string, unknown] => ['shell', { command: ['bash', '-c', script], timeout_ms: timeoutMs }];

describe.each<SandboxMode>(['none', 'bwrap'])('shell command limits (--sandbox %s)', (sandbox) => {
  let runDir: string;
  beforeAll(() => {
    if (sandbox === 'bwrap' && !detection.available) throw new Error(`bubblewrap is required: ${detection.reason}`);
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-limits-')));
    chownSync(runDir, NOBODY, NOBODY);
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  async function asWorker(calls: Array<[string, unknown]>, limits: Record<string, string>): Promise<ShellResult[]> {
    const worker = startToolWorkerCalls(
      calls,
      { runDir, sandbox, allowNetwork: false },
      { PATH: process.env.PATH, HOME: runDir, ...limits },
      { uid: os.userInfo().uid === 0 ? NOBODY : undefined },
    );
    return (await worker.results).map((r) => JSON.parse(r) as ShellResult);
  }

  it('stops a fork bomb at the process limit; the worker then runs the next command', async () => {
    // Each level forks two copies of itself: 2^9 - 1 = 511 processes unlimited, bounded so that a
    // missing limit cannot harm the machine, and far over the 48 allowed here.
    const bomb = 'bomb() { if [ "$1" -gt 0 ]; then bomb $(($1 - 1)) & bomb $(($1 - 1)) & wait; fi; sleep 2; }; bomb 8; echo bomb-ended';
    const started = Date.now();
    const [bombed, next] = await asWorker([shellCall(bomb, 8_000), shellCall('echo still here')], { INFTY_COMMAND_MAX_PROCS: '48' });
    expect(bombed.output).toContain('Resource temporarily unavailable');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(next).toMatchObject({ output: 'still here\n', metadata: { exit_code: 0 } });
  });

  it('runs the same tree to its end without a limit (the bomb above failed only because of it)', async () => {
    const tree = 'tree() { if [ "$1" -gt 0 ]; then tree $(($1 - 1)) & tree $(($1 - 1)) & wait; fi; }; tree 6; echo tree-ended';
    const [limited, unlimited] = await asWorker([shellCall(tree), ['shell', { command: ['true'] }]], { INFTY_COMMAND_MAX_PROCS: '0' });
    expect(limited).toMatchObject({ output: 'tree-ended\n', metadata: { exit_code: 0 } });
    expect(unlimited.metadata.exit_code).toBe(0);
  });

  it('fails a memory hog’s allocation at the memory limit; runtimes that only reserve address space still run', async () => {
    const [hog, node, next] = await asWorker(
      [
        shellCall("python3 -c \"b = b'x' * (2 << 30); print('allocated')\""),
        // The first `node` on PATH the command can see: the runner's outside the sandbox, the system's inside it.
        shellCall('node -e "console.log(1 + 1)"'),
        shellCall('echo still here'),
      ],
      // Node 24 does not start below about 550 MiB of RLIMIT_DATA (its code range); Node 20 needs far less.
      { INFTY_COMMAND_MAX_MEMORY: '768m' },
    );
    expect(hog.output).toContain('MemoryError');
    expect(hog.output).not.toContain('allocated');
    expect(hog.metadata.exit_code).toBe(1);
    expect(node).toMatchObject({ output: '2\n', metadata: { exit_code: 0 } });
    expect(next).toMatchObject({ output: 'still here\n', metadata: { exit_code: 0 } });
  });

  it('applies the image defaults when nothing is set in the image', async () => {
    const [limits] = await asWorker([shellCall('ulimit -u; ulimit -d')], { INFTY_IN_IMAGE: '1' });
    // bash reports RLIMIT_DATA in KiB: 4 GiB.
    expect(limits).toMatchObject({ output: '1024\n4194304\n', metadata: { exit_code: 0 } });
  });

  it('outside the image sets no process limit by default (the user may hold thousands of threads elsewhere), only the memory limit', async () => {
    const inherited = execFileSync('bash', ['-c', 'ulimit -u'], { encoding: 'utf8' });
    const [limits] = await asWorker([shellCall('ulimit -u; ulimit -d')], {});
    expect(limits).toMatchObject({ output: `${inherited}4194304\n`, metadata: { exit_code: 0 } });
  });
});

describe('commandLimitsFrom', () => {
  it('reads counts and sizes, 0 as no limit, and names the variable of a malformed value', () => {
    expect(commandLimitsFrom({ INFTY_IN_IMAGE: '1' })).toEqual({ maxProcs: 1024, maxMemoryBytes: 4 * 1024 ** 3 });
    // Outside the image the worker's user may hold thousands of threads elsewhere: no process limit by default.
    expect(commandLimitsFrom({})).toEqual({ maxMemoryBytes: 4 * 1024 ** 3 });
    expect(commandLimitsFrom({ INFTY_COMMAND_MAX_PROCS: '200', INFTY_COMMAND_MAX_MEMORY: '512m' })).toEqual({ maxProcs: 200, maxMemoryBytes: 512 * 1024 ** 2 });
    expect(commandLimitsFrom({ INFTY_COMMAND_MAX_PROCS: '0', INFTY_COMMAND_MAX_MEMORY: '0' })).toEqual({});
    expect(commandLimitsFrom({ INFTY_COMMAND_MAX_MEMORY: '1048576' })).toMatchObject({ maxMemoryBytes: 1048576 });
    expect(() => commandLimitsFrom({ INFTY_COMMAND_MAX_PROCS: 'many' })).toThrow(/INFTY_COMMAND_MAX_PROCS must be a whole number/);
    expect(() => commandLimitsFrom({ INFTY_COMMAND_MAX_MEMORY: '4 gigs' })).toThrow(/INFTY_COMMAND_MAX_MEMORY must be bytes or a size/);
  });
});
