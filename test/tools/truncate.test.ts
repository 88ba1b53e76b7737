import { describe, expect, it } from 'vitest';
import { truncateToolOutput } from '../../src/activities/tools/truncate';

describe('truncateToolOutput', () => {
  it('returns small output unchanged', () => {
    expect(truncateToolOutput('hello\nworld\n')).toBe('hello\nworld\n');
    expect(truncateToolOutput('')).toBe('');
    const exact = 'x'.repeat(10_240);
    expect(truncateToolOutput(exact)).toBe(exact);
  });

  it('keeps head and tail of big output with a marker and the line count', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const text = `${lines.join('\n')}\n`;
    const out = truncateToolOutput(text);
    expect(out.startsWith('Total output lines: 5000\n\nline 0\nline 1\n')).toBe(true);
    expect(out).toMatch(/\n\[… \d+ bytes truncated …\]\n/);
    expect(out.endsWith('line 4998\nline 4999\n')).toBe(true);
    const kept = out.replace(/^Total output lines: \d+\n\n/, '').replace(/\[… \d+ bytes truncated …\]\n/, '');
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(10_240 + 1);
    expect(Buffer.byteLength(out)).toBeLessThan(10_240 + 100);
    // The marker counts exactly the bytes removed; head and tail are whole lines.
    const n = Number(/\[… (\d+) bytes truncated …\]/.exec(out)![1]);
    expect(Buffer.byteLength(kept) + n).toBe(Buffer.byteLength(text));
    for (const l of kept.split('\n').filter(Boolean)) expect(l).toMatch(/^line \d+$/);
  });

  it('cuts at UTF-8 boundaries and is deterministic', () => {
    const text = 'é😀'.repeat(10_000); // one long line of multi-byte characters
    const out = truncateToolOutput(text, 1000);
    expect(out).not.toContain('\uFFFD');
    expect(out.startsWith('Total output lines: 1\n\n')).toBe(true);
    expect(truncateToolOutput(text, 1000)).toBe(out);
    const n = Number(/\[… (\d+) bytes truncated …\]/.exec(out)![1]);
    const kept = out.replace(/^Total output lines: \d+\n\n/, '').replace(/\n\[… \d+ bytes truncated …\]\n/, '');
    expect(Buffer.byteLength(kept) + n).toBe(Buffer.byteLength(text));
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(1000);
  });

  it('respects a custom limit, header and marker included', () => {
    const out = truncateToolOutput('a'.repeat(300), 100);
    expect(out).toBe(`Total output lines: 1\n\n${'a'.repeat(23)}\n[… 254 bytes truncated …]\n${'a'.repeat(23)}`);
    expect(Buffer.byteLength(out)).toBe(100);
  });

  it('never exceeds the bound', () => {
    for (const text of ['x'.repeat(1_000_000), 'ab\n'.repeat(400_000), '😀'.repeat(100_000), '\n'.repeat(50_000)]) {
      for (const max of [100, 1000, 10_240]) expect(Buffer.byteLength(truncateToolOutput(text, max))).toBeLessThanOrEqual(max);
    }
  });

  it('cuts a streamed text, counting its dropped middle', () => {
    const out = truncateToolOutput({ head: 'start\n'.repeat(2000), tail: 'end\n'.repeat(2000), omittedBytes: 1000, omittedNewlines: 100 });
    expect(out.startsWith('Total output lines: 4100\n\nstart\n')).toBe(true);
    expect(out.endsWith('end\nend\n')).toBe(true);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(10_240);
    const n = Number(/\[… (\d+) bytes truncated …\]/.exec(out)![1]);
    const kept = out.replace(/^Total output lines: \d+\n\n/, '').replace(/\[… \d+ bytes truncated …\]\n/, '');
    expect(Buffer.byteLength(kept) + n).toBe(12_000 + 1000 + 8000);
    // Nothing dropped and small enough: the two ends joined, unchanged.
    expect(truncateToolOutput({ head: 'a\n', tail: 'b\n', omittedBytes: 0, omittedNewlines: 0 })).toBe('a\nb\n');
  });
});
