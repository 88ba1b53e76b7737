import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyPatch, PatchParseError, parsePatch } from '../../src/activities/tools/applyPatch';
import type { ToolContext } from '../../src/activities/tools/context';
import { errorMessage, wire } from './support/results';

describe('parsePatch', () => {
  it('parses all operations', () => {
    const patch = parsePatch(
      [
        '*** Begin Patch',
        '*** Add File: a.txt',
        '+one',
        '+two',
        '*** Delete File: b.txt',
        '*** Update File: c.txt',
        '*** Move to: d.txt',
        '@@ def f():',
        ' ctx',
        '-old',
        '+new',
        '@@',
        '-x',
        '+y',
        '*** End of File',
        '*** End Patch',
      ].join('\n'),
    );
    expect(patch.hunks).toEqual([
      { type: 'add', path: 'a.txt', contents: 'one\ntwo\n', line: 2 },
      { type: 'delete', path: 'b.txt', line: 5 },
      {
        type: 'update',
        path: 'c.txt',
        movePath: 'd.txt',
        line: 6,
        chunks: [
          { context: 'def f():', oldLines: ['ctx', 'old'], newLines: ['ctx', 'new'], newFromOld: [0, null], isEndOfFile: false, line: 8 },
          { context: null, oldLines: ['x'], newLines: ['y'], newFromOld: [null], isEndOfFile: true, line: 12 },
        ],
      },
    ]);
  });

  it('reports errors with line numbers', () => {
    const err = (text: string): PatchParseError => {
      try {
        parsePatch(text);
      } catch (e) {
        if (e instanceof PatchParseError) return e;
        throw e;
      }
      throw new Error('expected a parse error');
    };
    expect(err('hello\n*** End Patch')).toMatchObject({ lineNumber: 1 });
    expect(err('hello').message).toMatch(/line 1: the first line of the patch must be '\*\*\* Begin Patch'/);
    expect(err('*** Begin Patch\n*** Add File: a\n+x')).toMatchObject({ lineNumber: 3 });
    expect(err('*** Begin Patch\n*** Add File: a\n+x').message).toMatch(/last line of the patch must be '\*\*\* End Patch'/);
    const bad = err('*** Begin Patch\n*** Frobnicate File: a\n*** End Patch');
    expect(bad.lineNumber).toBe(2);
    expect(bad.message).toMatch(/not a valid file operation/);
    const hunk = err('*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\n@@\n*** End Patch');
    expect(hunk.lineNumber).toBe(6);
    expect(hunk.message).toMatch(/does not contain any lines/);
    const noHunk = err('*** Begin Patch\n*** Update File: a\n*** End Patch');
    expect(noHunk).toMatchObject({ lineNumber: 2 });
    const missingAt = err('*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\n*** Update File: b\nfoo\n*** End Patch');
    expect(missingAt.lineNumber).toBe(7);
    expect(err('')).toMatchObject({ lineNumber: 1 });
    expect(err('*** Begin Patch\n*** Add File: \n*** End Patch')).toMatchObject({ lineNumber: 2 });
  });

  it('is lenient with heredoc wrappers, surrounding whitespace and CRLF', () => {
    const body = '*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch';
    const expected = [{ type: 'add', path: 'a.txt', contents: 'x\n', line: 2 }];
    expect(parsePatch(`<<'EOF'\n${body}\nEOF\n`).hunks).toEqual([{ ...expected[0], line: 3 }]);
    expect(parsePatch(`<<EOF\n${body}\nEOF`).hunks).toHaveLength(1);
    expect(parsePatch(`\n\n  ${body}  \n\n`).hunks).toEqual([{ ...expected[0], line: 4 }]);
    expect(parsePatch(body.replace(/\n/g, '\r\n')).hunks).toEqual(expected);
    expect(parsePatch(`${body}\n`).hunks).toEqual(expected);
  });
});

describe('applyPatch', () => {
  let runDir: string;
  let ctx: ToolContext;
  const file = (p: string): string => path.join(runDir, p);
  const read = (p: string): string => readFileSync(file(p), 'utf8');
  const write = (p: string, content: string): void => {
    mkdirSync(path.dirname(file(p)), { recursive: true });
    writeFileSync(file(p), content);
  };
  const patched = (...lines: string[]) => applyPatch({ input: ['*** Begin Patch', ...lines, '*** End Patch'].join('\n') }, ctx);
  /** The text the model sees of applying the patch of `lines`. */
  const apply = (...lines: string[]): Promise<string> => wire(patched(...lines));
  /** The error message of a patch of `lines` that must not apply. */
  const refused = (...lines: string[]): Promise<string> => errorMessage(patched(...lines));

  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-patch-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('adds a file, creating parent directories', async () => {
    expect(await apply('*** Add File: src/deep/new.txt', '+hello', '+world')).toBe('Success. Updated the following files:\nA src/deep/new.txt');
    expect(read('src/deep/new.txt')).toBe('hello\nworld\n');
  });

  it('deletes a file', async () => {
    write('gone.txt', 'bye\n');
    expect(await apply('*** Delete File: gone.txt')).toBe('Success. Updated the following files:\nD gone.txt');
    expect(existsSync(file('gone.txt'))).toBe(false);
    expect(await refused('*** Delete File: gone.txt')).toMatch(/no files were changed.*cannot delete 'gone.txt'.*does not exist/);
  });

  it('updates a file with multiple hunks', async () => {
    write('a.py', ['def a():', '    return 1', '', 'def b():', '    return 2', '', 'def c():', '    return 3', ''].join('\n'));
    const res = await apply(
      '*** Update File: a.py',
      '@@',
      ' def a():',
      '-    return 1',
      '+    return 10',
      '@@',
      ' def c():',
      '-    return 3',
      '+    return 30',
      '+',
      '+def d():',
      '+    return 4',
    );
    expect(res).toBe('Success. Updated the following files:\nM a.py');
    expect(read('a.py')).toBe(
      ['def a():', '    return 10', '', 'def b():', '    return 2', '', 'def c():', '    return 30', '', 'def d():', '    return 4', ''].join('\n'),
    );
  });

  it('accepts a first hunk without @@', async () => {
    write('x.txt', 'one\ntwo\nthree\n');
    expect(await apply('*** Update File: x.txt', ' one', '-two', '+2', ' three')).toMatch(/^Success/);
    expect(read('x.txt')).toBe('one\n2\nthree\n');
  });

  it('moves a file while updating it', async () => {
    write('old/name.txt', 'a\nb\n');
    chmodSync(file('old/name.txt'), 0o755);
    expect(await apply('*** Update File: old/name.txt', '*** Move to: new/place.txt', '@@', ' a', '-b', '+B')).toBe(
      'Success. Updated the following files:\nM new/place.txt',
    );
    expect(existsSync(file('old/name.txt'))).toBe(false);
    expect(read('new/place.txt')).toBe('a\nB\n');
    expect(statSync(file('new/place.txt')).mode & 0o777).toBe(0o755);
  });

  it('uses the @@ header to locate the hunk', async () => {
    write('m.py', ['class A:', '    def run(self):', '        return 1', '', 'class B:', '    def run(self):', '        return 1', ''].join('\n'));
    expect(await apply('*** Update File: m.py', '@@ class B:', '     def run(self):', '-        return 1', '+        return 2')).toMatch(/^Success/);
    expect(read('m.py')).toBe(['class A:', '    def run(self):', '        return 1', '', 'class B:', '    def run(self):', '        return 2', ''].join('\n'));
    // A header naming a line that does not exist fails clearly.
    const res = await refused('*** Update File: m.py', '@@ class C:', '-        return 2', '+        return 3');
    expect(res).toMatch(/hunk 1 of 1 .*'m.py'.*could not find the context line/s);
    expect(res).toContain('@@ class C:');
  });

  it('inserts pure additions after the @@ header line, or at the end of the file', async () => {
    write('list.txt', 'header\nbody\n');
    expect(await apply('*** Update File: list.txt', '@@ header', '+inserted')).toMatch(/^Success/);
    expect(read('list.txt')).toBe('header\ninserted\nbody\n');
    expect(await apply('*** Update File: list.txt', '@@', '+last')).toMatch(/^Success/);
    expect(read('list.txt')).toBe('header\ninserted\nbody\nlast\n');
  });

  it('matches with trailing/leading whitespace differences and unicode punctuation', async () => {
    write('w.txt', 'alpha   \n\tbeta\ngamma \u2014 delta\nend\n');
    expect(await apply('*** Update File: w.txt', '@@', ' alpha', '-beta', '+BETA', '-gamma - delta', '+GAMMA')).toMatch(/^Success/);
    expect(read('w.txt')).toBe('alpha   \nBETA\nGAMMA\nend\n');
  });

  it('honours *** End of File and a missing trailing newline', async () => {
    write('e.txt', 'x\ny\nx\ny');
    expect(await apply('*** Update File: e.txt', '@@', ' x', '-y', '+z', '*** End of File')).toMatch(/^Success/);
    expect(read('e.txt')).toBe('x\ny\nx\nz\n');
  });

  it('preserves CRLF line endings', async () => {
    write('crlf.txt', 'a\r\nb\r\nc\r\n');
    expect(await apply('*** Update File: crlf.txt', '@@', ' a', '-b', '+B', ' c')).toMatch(/^Success/);
    expect(read('crlf.txt')).toBe('a\r\nB\r\nc\r\n');
  });

  it('applies nothing when any hunk fails', async () => {
    write('one.txt', 'keep\n');
    write('two.txt', 'first\nsecond\nthird\n');
    write('three.txt', 'delete me\n');
    const res = await refused(
      '*** Add File: added.txt',
      '+new',
      '*** Update File: one.txt',
      '-keep',
      '+changed',
      '*** Delete File: three.txt',
      '*** Update File: two.txt',
      '@@',
      ' first',
      '-second',
      '+2',
      '@@',
      ' third',
      '-fourth',
      '+4',
    );
    expect(res).toMatch(/^apply_patch verification failed; no files were changed/);
    expect(res).toMatch(/hunk 2 of 2 .*'two.txt'/);
    expect(res).toContain('  third\n  fourth');
    expect(existsSync(file('added.txt'))).toBe(false);
    expect(read('one.txt')).toBe('keep\n');
    expect(read('two.txt')).toBe('first\nsecond\nthird\n');
    expect(read('three.txt')).toBe('delete me\n');
  });

  it('searches later hunks after the previous hunk', async () => {
    write('r.txt', 'x\nA\nx\nB\n');
    expect(await apply('*** Update File: r.txt', '@@', '-A', '+a', '@@', '-x', '+X')).toMatch(/^Success/);
    expect(read('r.txt')).toBe('x\na\nX\nB\n');
  });

  it('refuses absolute paths and escapes', async () => {
    expect(await refused('*** Add File: /tmp/evil.txt', '+x')).toMatch(/absolute path/);
    expect(existsSync('/tmp/evil.txt')).toBe(false);
    expect(await refused('*** Add File: ../evil.txt', '+x')).toMatch(/^apply_patch refused; no files were changed: .*must stay inside the run directory/);
    expect(existsSync(path.join(path.dirname(runDir), 'evil.txt'))).toBe(false);
    write('in.txt', 'x\n');
    expect(await refused('*** Update File: in.txt', '*** Move to: ../out.txt', '-x', '+y')).toMatch(/inside the run directory/);
    expect(read('in.txt')).toBe('x\n');
  });

  it('reports missing files, directories, parse errors and bad arguments as text', async () => {
    expect(await refused('*** Update File: nope.txt', '-x', '+y')).toMatch(/cannot update 'nope.txt'.*does not exist/);
    mkdirSync(file('dir'));
    expect(await refused('*** Add File: dir', '+x')).toMatch(/'dir' is a directory/);
    expect(await errorMessage(applyPatch({ input: 'not a patch' }, ctx))).toMatch(/^invalid patch: line 1: /);
    expect(await errorMessage(applyPatch({ patch: 'x' }, ctx))).toMatch(/^invalid arguments for apply_patch: input: expected string/);
  });

  it('accepts a heredoc-wrapped patch', async () => {
    const res = await wire(applyPatch({ input: "<<'EOF'\n*** Begin Patch\n*** Add File: h.txt\n+hi\n*** End Patch\nEOF\n" }, ctx));
    expect(res).toBe('Success. Updated the following files:\nA h.txt');
    expect(read('h.txt')).toBe('hi\n');
  });

  it('handles several operations on one file in order', async () => {
    expect(await apply('*** Add File: s.txt', '+a', '*** Update File: s.txt', '-a', '+b')).toBe('Success. Updated the following files:\nA s.txt\nM s.txt');
    expect(read('s.txt')).toBe('b\n');
  });

  it('tolerates unified-diff range headers and blank separator lines', async () => {
    write('u.txt', 'a\nb\nc\n');
    write('v.txt', 'x\n');
    const res = await apply('*** Update File: u.txt', '@@ -1,3 +1,3 @@', ' a', '-b', '+B', '', '*** Update File: v.txt', '-x', '+X', '');
    expect(res).toBe('Success. Updated the following files:\nM u.txt\nM v.txt');
    expect(read('u.txt')).toBe('a\nB\nc\n');
    expect(read('v.txt')).toBe('X\n');
  });
});
