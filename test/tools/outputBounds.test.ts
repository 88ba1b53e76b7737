import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { executeTool } from '../../src/activities/tools/index';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../src/activities/tools/truncate';

const MARKER = /\[… \d+ bytes truncated …\]/;

interface ShellResult {
  output: string;
  metadata: { exit_code: number; duration_seconds: number };
}

function expectBounded(text: string): void {
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(DEFAULT_MAX_OUTPUT_BYTES);
}

function shellResult(text: string): ShellResult {
  const res = JSON.parse(text) as ShellResult;
  expectBounded(res.output);
  return res;
}

/** Runs `fn` while sampling this process's RSS; returns its result and the peak growth in bytes. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

describe('every tool output is bounded, with a marker when cut', () => {
  let runDir: string;
  let ctx: ToolContext;
  const run = async (name: string, args: unknown): Promise<string> => (await executeTool(name, JSON.stringify(args), ctx)).output;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-bounds-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('read_file of a 5 MB file', async () => {
    const line = `${'0123456789'.repeat(9)}abcdefghi\n`; // 100 bytes
    writeFileSync(path.join(runDir, 'big.txt'), line.repeat(50_000));
    const out = await run('read_file', { path: 'big.txt' });
    expectBounded(out);
    expect(out).toMatch(MARKER);
    expect(out.startsWith('Total output lines: ')).toBe(true);
    expect(out).toContain(`L1: ${line.trimEnd()}\nL2: `);
    expect(out).toMatch(/\[read_file stopped at line \d+ after \d+ bytes of output; continue with offset \d+\]$/);
  });

  it('read_file with a huge limit stops reading and says where to go on', async () => {
    writeFileSync(path.join(runDir, 'big.txt'), 'some text on a line\n'.repeat(250_000));
    const { value: out, growth } = await peakRssGrowth(() => run('read_file', { path: 'big.txt', limit: 1_000_000_000 }));
    expectBounded(out);
    expect(out).toMatch(MARKER);
    const stop = /\[read_file stopped at line (\d+) after \d+ bytes of output; continue with offset (\d+)\]$/.exec(out);
    expect(stop).not.toBeNull();
    expect(Number(stop![2])).toBe(Number(stop![1]) + 1);
    expect(Number(stop![1])).toBeLessThan(250_000);
    expect(growth).toBeLessThan(100 * 2 ** 20);
  });

  it('list_dir of a folder with 20,000 entries', async () => {
    mkdirSync(path.join(runDir, 'many'));
    for (let i = 0; i < 20_000; i++) writeFileSync(path.join(runDir, 'many', `a-rather-long-file-name-number-${String(i).padStart(5, '0')}.txt`), '');
    const out = await run('list_dir', { path: 'many' });
    expectBounded(out);
    expect(out).toMatch(MARKER);
    // Still the first entries in name order, and the note that the listing stopped.
    expect(out).toContain('  a-rather-long-file-name-number-00000.txt\n  a-rather-long-file-name-number-00001.txt\n');
    expect(out).not.toContain('number-00500.txt');
    expect(out).toMatch(/\[listing truncated after 500 entries; list a subdirectory or use a smaller depth\]$/);
  });

  it('apply_patch error output', async () => {
    const hugeLine = 'not a patch '.repeat(100_000);
    const out = await run('apply_patch', { input: `${hugeLine}\n*** End Patch` });
    expectBounded(out);
    expect(out).toMatch(MARKER);
    expect(out).toMatch(/first line of the patch must be '\*\*\* Begin Patch'/);
  });

  it('error texts of the dispatcher', async () => {
    const { output: out } = await executeTool('x'.repeat(100_000), '{}', ctx);
    expectBounded(out);
    expect(out).toMatch(MARKER);
    expect(out).toMatch(/Available tools: shell, apply_patch, read_file, list_dir, update_plan\.$/);
  });

  it('a binary file: a short note for read_file, marked replacement characters for shell', async () => {
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    writeFileSync(path.join(runDir, 'blob.bin'), bytes);
    expect(await run('read_file', { path: 'blob.bin' })).toBe(
      'Error: blob.bin appears to be a binary file (300000 bytes, it contains NUL bytes); read_file only reads text files',
    );
    const res = shellResult(await run('shell', { command: ['cat', 'blob.bin'] }));
    expect(res.metadata.exit_code).toBe(0);
    expect(res.output).toMatch(MARKER);
    expect(res.output).toContain('[binary output (300000 bytes): bytes that are not UTF-8 text are shown as \uFFFD]');
    expect(res.output).toContain('\uFFFD');
    expect(res.output).not.toContain('\0');
  });

  it('a file with invalid UTF-8 (no NUL): replacement characters and a note', async () => {
    writeFileSync(path.join(runDir, 'latin1.txt'), Buffer.from('caf\xe9 au lait\nna\xefve\n', 'latin1'));
    expect(await run('read_file', { path: 'latin1.txt' })).toBe(
      'L1: caf\uFFFD au lait\nL2: na\uFFFDve\n[note: latin1.txt is not valid UTF-8; invalid bytes are shown as \uFFFD]',
    );
    const res = shellResult(await run('shell', { command: ['cat', 'latin1.txt'] }));
    expect(res.output).toBe('[binary output (19 bytes): bytes that are not UTF-8 text are shown as \uFFFD]\ncaf\uFFFD au lait\nna\uFFFDve\n');
    // A multi-byte character split across output chunks is still text.
    const split = shellResult(await run('shell', { command: ['sh', '-c', "printf '\\303'; sleep 0.2; printf '\\251\\n'"] }));
    expect(split.output).toBe('é\n');
  });

  it('a shell command printing 50 MB, with bounded memory', async () => {
    const { value, growth } = await peakRssGrowth(() =>
      run('shell', { command: ['sh', '-c', 'head -c 50000000 /dev/zero | tr "\\0" "a"; echo; echo END'], timeout_ms: 60_000 }),
    );
    const res = shellResult(value);
    expect(res.metadata.exit_code).toBe(0);
    expect(res.output).toMatch(/\[… 49\d{6} bytes truncated …\]/);
    expect(res.output.endsWith('\nEND\n')).toBe(true);
    expect(growth).toBeLessThan(100 * 2 ** 20);
  });

  it('a command that never ends hits its timeout, its flood of output bounded', async () => {
    const res = shellResult(await run('shell', { command: ['yes', 'never ending'], timeout_ms: 1500 }));
    expect(res.metadata.exit_code).toBe(124);
    expect(res.output.startsWith('Total output lines: ')).toBe(true);
    expect(res.output).toContain('command timed out after 1500 ms\nnever ending\n');
    expect(res.output).toMatch(MARKER);
  });
});
