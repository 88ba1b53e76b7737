import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { shellTool } from '../../src/activities/tools/shell';
import { errorMessage, type ShellWire, shellWire, wire } from './support/results';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // An unreaped zombie is dead for our purposes.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

describe('the shell tool (no sandbox)', () => {
  let runDir: string;
  let ctx: ToolContext;
  const run = async (args: unknown, extra: Partial<ToolContext> = {}): Promise<ShellWire> => shellWire(shellTool(args, { ...ctx, ...extra }));
  const refused = (args: unknown): Promise<string> => errorMessage(shellTool(args, ctx));

  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-shell-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: true };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('returns output and exit code as JSON', async () => {
    const text = await wire(shellTool({ command: ['echo', 'hello world'] }, ctx));
    const res = JSON.parse(text) as ShellWire;
    expect(res.output).toBe('hello world\n');
    expect(res.metadata.exit_code).toBe(0);
    expect(typeof res.metadata.duration_seconds).toBe('number');
    expect(Math.round(res.metadata.duration_seconds * 10)).toBe(res.metadata.duration_seconds * 10);
    expect(Object.keys(JSON.parse(text))).toEqual(['output', 'metadata']);
  });

  it('runs in the run dir by default and interleaves stderr', async () => {
    const res = await run({ command: ['bash', '-c', 'pwd; echo oops >&2; exit 3'] });
    expect(res.output).toBe(`${runDir}\noops\n`);
    expect(res.metadata.exit_code).toBe(3);
  });

  it('honours workdir inside the run dir', async () => {
    mkdirSync(path.join(runDir, 'sub'));
    expect((await run({ command: ['pwd'], workdir: 'sub' })).output).toBe(`${path.join(runDir, 'sub')}\n`);
    expect((await run({ command: ['pwd'], workdir: path.join(runDir, 'sub') })).output).toBe(`${path.join(runDir, 'sub')}\n`);
  });

  it('refuses a workdir outside the run dir', async () => {
    expect(await refused({ command: ['pwd'], workdir: '..' })).toMatch(/^workdir refused: .*must stay inside the run directory/);
    expect(await refused({ command: ['pwd'], workdir: '/etc' })).toMatch(/^workdir refused/);
    expect(await refused({ command: ['pwd'], workdir: 'missing' })).toBe("workdir 'missing' does not exist");
    expect(await wire(shellTool({ command: ['pwd'], workdir: 'missing' }, ctx))).toBe("Error: workdir 'missing' does not exist");
  });

  it('validates its arguments', async () => {
    expect(await refused({})).toMatch(/^invalid arguments for shell: command: expected array/);
    expect(await refused({ command: [] })).toMatch(/^invalid arguments for shell: command/);
    expect(await refused({ command: 'ls' })).toMatch(/command: expected array, received string/);
    expect(await refused({ command: ['ls'], timeout_ms: -1 })).toMatch(/timeout_ms/);
  });

  it('reports a missing program as exit code 127', async () => {
    const res = await run({ command: ['definitely-not-a-program-xyz', 'arg'] });
    expect(res.metadata.exit_code).toBe(127);
    expect(res.output).toMatch(/definitely-not-a-program-xyz/);
    expect(res.output).toMatch(/ENOENT/);
  });

  it('kills the whole process group on timeout (exit code 124)', async () => {
    const started = Date.now();
    const res = await run({ command: ['bash', '-c', 'sleep 30 & echo $! > child.pid; echo started; wait'], timeout_ms: 700 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.metadata.exit_code).toBe(124);
    expect(res.output).toBe('command timed out after 700 ms\nstarted\n');
    const pid = Number(readFileSync(path.join(runDir, 'child.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(await waitUntilDead(pid)).toBe(true);
  });

  it('does not wait forever for background processes holding the output pipe', async () => {
    const started = Date.now();
    const res = await run({ command: ['bash', '-c', 'sleep 30 & echo $! > bg.pid; echo done'] });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(res.metadata.exit_code).toBe(0);
    expect(res.output).toBe('done\n');
    expect(await waitUntilDead(Number(readFileSync(path.join(runDir, 'bg.pid'), 'utf8')))).toBe(true);
  });

  it('kills the process group when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const res = await run({ command: ['bash', '-c', 'sleep 30 & echo $! > child.pid; wait'] }, { signal: controller.signal });
    expect(res.metadata.exit_code).toBe(130);
    expect(res.output).toMatch(/^command aborted/);
    expect(await waitUntilDead(Number(readFileSync(path.join(runDir, 'child.pid'), 'utf8')))).toBe(true);
    // Already aborted: nothing runs.
    const again = await run({ command: ['touch', 'never'] }, { signal: controller.signal });
    expect(again.metadata.exit_code).toBe(130);
    expect(existsSync(path.join(runDir, 'never'))).toBe(false);
  });

  it('heartbeats while running', async () => {
    let beats = 0;
    const res = await run({ command: ['sleep', '2.3'] }, { heartbeat: () => beats++ });
    expect(res.metadata.exit_code).toBe(0);
    expect(beats).toBeGreaterThanOrEqual(1);
  });

  it('truncates big output, keeping head and tail', async () => {
    const res = await run({ command: ['bash', '-c', 'seq 1 200000'] });
    expect(res.metadata.exit_code).toBe(0);
    expect(res.output.startsWith('Total output lines: 200000\n\n1\n2\n3\n')).toBe(true);
    expect(res.output).toMatch(/\[… \d+ bytes truncated …\]/);
    expect(res.output.endsWith('199999\n200000\n')).toBe(true);
    expect(Buffer.byteLength(res.output)).toBeLessThan(11_000);
  });

  it('bounds memory for huge output and still reports totals', async () => {
    // ~8 MB of output: more than the in-memory capture keeps.
    const res = await run({ command: ['bash', '-c', 'yes abcdefg | head -n 1000000; echo END'] });
    expect(res.metadata.exit_code).toBe(0);
    expect(res.output.startsWith('Total output lines: 1000001\n\nabcdefg\n')).toBe(true);
    const n = Number(/\[… (\d+) bytes truncated …\]/.exec(res.output)![1]);
    const kept = res.output.replace(/^Total output lines: \d+\n\n/, '').replace(/\[… \d+ bytes truncated …\]\n/, '');
    expect(Buffer.byteLength(kept) + n).toBe(8_000_004);
    expect(res.output.endsWith('abcdefg\nEND\n')).toBe(true);
  });
});
