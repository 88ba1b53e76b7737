import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { detectProcessGuard, guardCommand, guardServerCommand, resetProcessGuardDetection } from '../../src/activities/tools/processGuard';
import { detectSandbox, type SandboxMode } from '../../src/activities/tools/sandbox';
import { shellTool } from '../../src/activities/tools/shell';
import { isAlive, processesWith, waitFor } from './support/processes';
import { type ShellWire, shellWire } from './support/results';
import { startToolWorker } from './support/toolWorker';

const detection = await detectSandbox();

describe.each<SandboxMode>(['none', 'bwrap'])('a command of a SIGKILLed worker (--sandbox %s)', (sandbox) => {
  let runDir: string;
  beforeAll(() => {
    if (sandbox === 'bwrap' && !detection.available) throw new Error(`bubblewrap is required: ${detection.reason}`);
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-lifetime-')));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('dies with it, background children and grandchildren included', async () => {
    // A unique duration marks every process of this command in /proc/*/cmdline.
    const marker = `1000.${process.pid}${Date.now() % 100_000}`;
    const script = `sleep ${marker} & echo $! >> pids; (sleep ${marker} & echo $! >> pids; wait) & echo $$ >> pids; wait`;
    const worker = startToolWorker(
      'shell',
      { command: ['sh', '-c', script] },
      { runDir, sandbox, allowNetwork: false },
      { PATH: process.env.PATH, HOME: process.env.HOME },
    );
    worker.result.catch(() => {});
    const sleeps = (): number => processesWith(marker).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0')).length;
    try {
      expect(await waitFor(() => sleeps() === 2, 15_000), 'both sleeps started').toBe(true);
      const pids = sandbox === 'none' ? readFileSync(path.join(runDir, 'pids'), 'utf8').trim().split('\n').map(Number) : [];
      const all = [...processesWith(marker), ...pids];
      expect(all.length).toBeGreaterThanOrEqual(4);

      worker.child.kill('SIGKILL');
      const gone = await waitFor(() => all.every((pid) => !isAlive(pid)), 5_000);
      expect(all.filter(isAlive), 'still running after the worker died').toEqual([]);
      expect(gone).toBe(true);
    } finally {
      worker.child.kill('SIGKILL');
      for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('the process guard (--sandbox none)', () => {
  let runDir: string;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-guard-')));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));
  const run = (command: string[]): Promise<ShellWire> =>
    shellWire(shellTool({ command, timeout_ms: 10_000 }, { runDir, sandbox: 'none', allowNetwork: false }));

  it('is available here', () => {
    expect(detectProcessGuard()).toEqual({ available: true });
  });

  it('keeps exit codes, signals and interrupt handling as without it', async () => {
    expect((await run(['sh', '-c', 'echo out; echo err >&2; exit 7'])).metadata.exit_code).toBe(7);
    expect(await run(['sh', '-c', 'kill -SEGV $$'])).toEqual({ output: '', metadata: expect.objectContaining({ exit_code: 139 }) });
    expect((await run(['sh', '-c', 'kill -TERM $$'])).metadata.exit_code).toBe(143);
    // Background jobs of a plain shell would ignore SIGINT; the command must not.
    expect(await run(['sh', '-c', 'kill -INT $$; echo survived'])).toEqual({ output: '', metadata: expect.objectContaining({ exit_code: 130 }) });
    const missing = await run(['no-such-program-xyz']);
    expect(missing.metadata.exit_code).toBe(127);
    expect(missing.output).toMatch(/no-such-program-xyz.*ENOENT/);
  });

  it('kills background processes that closed their output when the command ends', async () => {
    const res = await run(['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $! > bg.pid']);
    expect(res.metadata.exit_code).toBe(0);
    const pid = Number(readFileSync(path.join(runDir, 'bg.pid'), 'utf8'));
    expect(await waitFor(() => !isAlive(pid), 3000)).toBe(true);
  });

  it('says so, once, when setpriv is missing, and runs the command unguarded', () => {
    const savedPath = process.env.PATH;
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      process.env.PATH = '/nonexistent';
      resetProcessGuardDetection();
      expect(detectProcessGuard()).toEqual({ available: false, reason: 'setpriv (util-linux) was not found on PATH' });
      expect(guardCommand('sleep', ['1'])).toEqual({ file: 'sleep', args: ['1'] });
      expect(guardServerCommand('node', ['server.js'])).toEqual({ file: 'node', args: ['server.js'] });
      guardCommand('true', []);
    } finally {
      process.env.PATH = savedPath;
      resetProcessGuardDetection();
    }
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        expect(warnings.map((w) => w.message)).toEqual([
          'unsandboxed commands and stdio MCP servers may outlive a killed worker: setpriv (util-linux) was not found on PATH',
        ]);
        resolve();
      }),
    );
  });
});
