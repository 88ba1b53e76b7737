/**
 * docs/architecture.md's layout lists every source file (issue 21): a file added under src/ without
 * its line there fails here, and so does a line naming a file that is gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The fenced block under `## Layout`. */
function layoutBlock(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Layout'));
  const start = section.indexOf('```') + 3;
  return section.slice(start, section.indexOf('```', start));
}

const named = (block: string, name: string) => new RegExp(`(?<![\\w.-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`).test(block);

describe("docs/architecture.md's layout", () => {
  const block = layoutBlock();
  const files = sourceFiles(join(ROOT, 'src')).map((f) => relative(ROOT, f));

  it('names every source file under src/', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !named(block, f.split('/').pop()!))).toEqual([]);
  });

  it('names no .ts file that no longer exists', () => {
    const names = new Set(files.map((f) => f.split('/').pop()!));
    const mentioned = [...block.matchAll(/(?<![\w.-])([A-Za-z][\w-]*\.ts)(?![\w-])/g)].map((m) => m[1]!);
    expect([...new Set(mentioned.filter((n) => !names.has(n)))]).toEqual([]);
  });
});
