import { describe, expect, it } from 'vitest';
import { isKnownSafeCommand, SAFE_PROGRAMS, splitScript } from '../../src/protocol/safeCommand';

const lc = (script: string) => ['bash', '-lc', script];

/** Read-only: runs without asking under `--approval untrusted`. */
const SAFE: string[][] = [
  ['ls'],
  ['ls', '-la'],
  ['cat', 'README.md'],
  ['echo', 'hi', '>', 'x'], // argv, no shell: prints "hi > x"
  ['cat', '$(rm x)'], // argv, no shell: a file name
  ['pwd'],
  ['true'],
  ['false'],
  ['head', '-n', '5', 'a.txt'],
  ['tail', '-n', '20', 'a.txt'],
  ['tail', '-n', '+5', 'a.txt'],
  ['wc', '-l', 'a', 'b'],
  ['nl', '-ba', 'a.ts'],
  ['grep', '-rn', 'TODO', 'src'],
  ['which', 'node'],
  ['whoami'],
  ['uname', '-a'],
  ['date'],
  ['date', '+%Y-%m-%d'],
  ['date', '-d', 'tomorrow', '+%F'],
  ['stat', 'a'],
  ['file', 'a.bin'],
  ['tree', '-L', '2'],
  ['du', '-sh', '.'],
  ['df', '-h'],
  ['basename', 'a/b.ts'],
  ['dirname', 'a/b.ts'],
  ['realpath', '.'],
  ['readlink', '-f', 'x'],
  ['diff', '-u', 'a', 'b'],
  ['cmp', 'a', 'b'],
  ['sort', '-k2,2n', 'a.txt'],
  ['uniq', '-c', 'a.txt'],
  ['uniq', '-f', '1', 'a.txt'],
  ['cut', '-d,', '-f1', 'a.csv'],
  ['tr', 'a-z', 'A-Z'],
  ['env'],
  ['printenv', 'PATH'],
  ['find', '.', '-name', '*.ts', '-type', 'f'],
  ['rg', '-n', 'foo', 'src'],
  ['rg', '--files'],
  ['sed', '-n', '1,20p', 'a.txt'],
  ['sed', '-n', '$p', 'a.txt'],
  ['sed', '-n', '/^export/p;5p', 'a.ts'],
  ['git', 'status'],
  ['git', '--no-pager', 'log', '--oneline', '-n', '5'],
  ['git', 'diff', '--stat', 'HEAD~1'],
  ['git', 'diff', '--no-ext-diff', '--no-textconv'],
  ['git', 'show', 'HEAD:README.md'],
  ['git', 'branch'],
  ['git', 'branch', '-av'],
  ['git', 'branch', '--list', 'feat*'],
  ['git', 'branch', '--show-current'],
  ['git', 'rev-parse', 'HEAD'],
  ['git', 'ls-files', '-o', '--exclude-standard'],
  ['git', 'blame', '-L', '1,5', 'a.ts'],
  ['git', 'describe', '--tags'],
  ['git', 'tag'],
  ['git', 'tag', '-l', 'v1.*'],
  lc('ls'),
  lc('ls && cat README.md | head -n 5'),
  lc('cd src; ls -la || echo none'),
  lc("grep -n 'a b' x.ts | wc -l"),
  lc('echo "a \\"quoted\\" word"'),
  lc('cat a\ncat b\n'),
  lc('git log --oneline HEAD~3..HEAD^'),
  lc("sed -n '$p' a.txt"),
  lc("find . -name '*.ts'"),
  lc('ls &&\n  cat a'),
  ['bash', '-c', 'ls'],
  ['sh', '-c', 'pwd'],
  ['zsh', '-lc', 'git status'],
];

/** Everything else waits for a person; the attacks sit at the weak points of each rule. */
const UNSAFE: string[][] = [
  [],
  [''],
  ['rm', '-rf', 'x'],
  ['/bin/ls'], // a path: not looked up
  ['./ls'],
  ['xargs', 'cat'],
  ['constructor'],
  ['__proto__'],
  ['toString'],
  ['python3', '-c', 'print(1)'],
  ['tee', 'b'],
  ['touch', 'x'],
  ['curl', 'https://example.com'],
  ['env', 'rm', 'x'],
  ['env', '-i', 'sh'],
  ['env', 'X=1', 'ls'],
  ['env', '-S', 'rm x'],
  ['tail', '-f', 'log'],
  ['tail', '-F', 'log'],
  ['tail', '-nf', '5', 'log'],
  ['tail', '-5f', 'log'],
  ['tail', '+5f', 'log'],
  ['tail', '--follow=name', 'log'],
  ['tail', '--fo', 'log'],
  ['date', '-s', '2020-01-01'],
  ['date', '-us', '2020-01-01'],
  ['date', '--set=2020-01-01'],
  ['date', '--se', '2020-01-01'],
  ['date', '010112002020'],
  ['file', '-C', '-m', 'magic'],
  ['file', '-z', 'a.gz'],
  ['file', '--compile'],
  ['tree', '-o', 'out.txt'],
  ['tree', '-R', '-H', '.'],
  ['sort', '-o', 'x', 'a'],
  ['sort', '-uo', 'x', 'a'],
  ['sort', '--output=x', 'a'],
  ['sort', '--out=x', 'a'],
  ['sort', '--compress-program=sh', 'a'],
  ['uniq', 'a', 'b'],
  ['uniq', '-c', 'a', 'b'],
  ['uniq', 'a', '--', 'b'],
  ['find', '.', '-delete'],
  ['find', '.', '-exec', 'rm', '{}', ';'],
  ['find', '.', '-execdir', 'sh', '-c', 'x', ';'],
  ['find', '.', '-ok', 'rm', '{}', ';'],
  ['find', '.', '-okdir', 'rm', '{}', ';'],
  ['find', '.', '-fls', 'out'],
  ['find', '.', '-fprint', 'out'],
  ['find', '.', '-fprint0', 'out'],
  ['find', '.', '-fprintf', 'out', '%p'],
  ['rg', '--pre', 'sh', 'x'],
  ['rg', '--pre=sh', 'x'],
  ['rg', '--pre-glob', '*', '--pre', 'sh', 'x'],
  ['rg', '--hostname-bin=sh', 'x'],
  ['rg', '-z', 'x'],
  ['rg', '-nz', 'x'],
  ['rg', '--search-zip', 'x'],
  ['sed', '-n', 'w out', 'f'],
  ['sed', '-n', '1w out', 'f'],
  ['sed', '-n', '1e rm x', 'f'],
  ['sed', '-n', 's/a/b/e', 'f'],
  ['sed', '-i', 's/a/b/', 'f'],
  ['sed', '-n', '1p', 'f', '-i'],
  ['sed', '-n', '1p', '--in-place', 'f'],
  ['sed', 's/a/b/', 'f'],
  ['sed', '-n', '/a\\/w x/p', 'f'],
  ['sed', '-n', '1p\nw out', 'f'],
  ['git', '-c', 'core.pager=sh', 'log'],
  ['git', '--config-env=core.pager=X', 'log'],
  ['git', '-C', '/elsewhere', 'status'],
  ['git', '--exec-path=/tmp', 'status'],
  ['git', '--git-dir=/tmp/evil', 'log'],
  ['git', 'diff', '--output=x'],
  ['git', 'diff', '--out=x'],
  ['git', 'log', '-p', '--output', 'x'],
  ['git', 'show', '-ox'],
  ['git', 'diff', '--ext-diff'],
  ['git', 'log', '-p', '--textconv'],
  ['git', 'log', '--help'],
  ['git', 'push'],
  ['git', 'commit', '-m', 'x'],
  ['git', 'checkout', '.'],
  ['git', 'fetch'],
  ['git', 'config', 'core.pager'],
  ['git', 'grep', '-O', 'x'],
  ['git', 'branch', 'new-branch'],
  ['git', 'branch', '-d', 'old'],
  ['git', 'branch', '-D', 'old'],
  ['git', 'branch', '-m', 'a', 'b'],
  ['git', 'branch', '-c', 'a', 'b'],
  ['git', 'branch', '--delete', 'old'],
  ['git', 'branch', '--move', 'a', 'b'],
  ['git', 'branch', '-f', 'main', 'HEAD~1'],
  ['git', 'branch', '--set-upstream-to=origin/x'],
  ['git', 'tag', 'v9'],
  ['git', 'tag', '-d', 'v1'],
  ['git', 'tag', '-a', 'v9', '-m', 'x'],
  ['git', 'tag', '-v', 'v1'],
  ['git'],
  lc('ls > x'),
  lc('ls >> x'),
  lc('cat < x'),
  lc('cat <<EOF\nx\nEOF'),
  lc('ls &> x'),
  lc('ls 2>&1'),
  lc('ls; rm -rf x'),
  lc('ls && rm -rf x'),
  lc('ls\nrm -rf x'),
  lc('echo $(rm x)'),
  lc('echo "$(rm x)"'),
  lc('echo `rm x`'),
  lc('echo "`rm x`"'),
  lc('echo $HOME'),
  lc('echo "$HOME"'),
  lc("echo $'\\x41'"),
  lc('cat a | tee b'),
  lc('echo rm x | sh'),
  lc('echo hi | xargs rm'),
  lc('ls &'),
  lc('ls & rm x'),
  lc('ls |& cat'),
  lc('(rm x)'),
  lc('{ ls; }'),
  lc('X=1 ls'),
  lc('=rm x'),
  lc('cat <(rm x)'),
  lc('diff <(ls) >(rm x)'),
  lc('echo {a,b}'),
  lc('find . {-delete,}'),
  lc('find . -del\\\nete'),
  lc('ls *'),
  lc('rg foo ?'),
  lc('ls [ab]'),
  lc('cat ~/x'),
  lc('ls # comment'),
  lc('cat "unterminated'),
  lc("cat 'unterminated; rm x"),
  lc('ls;;'),
  lc('; ls'),
  lc('ls &&'),
  lc('ls |'),
  lc(''),
  lc('find . -delete'),
  lc("sed -i 's/a/b/' f"),
  lc('sort -o x a'),
  lc('tail -f log'),
  lc('bash -lc ls'),
  lc('env rm x'),
  lc('if true; then ls; fi'),
  lc('ls\r\nrm x'),
  ['zsh', '-lc', 'git log HEAD~1'], // zsh EXTENDED_GLOB would read `~` as a glob operator
  ['bash', '-lc', 'ls', 'extra'],
  ['bash', '-x', 'ls'],
  ['bash', 'script.sh'],
  ['bash', '-l', '-c', 'ls'],
  ['fish', '-c', 'ls'],
];

describe('isKnownSafeCommand', () => {
  it('has a table of at least 60 cases each way', () => {
    expect(SAFE.length).toBeGreaterThanOrEqual(60);
    expect(UNSAFE.length).toBeGreaterThanOrEqual(60);
  });

  it.each(SAFE.map((c) => [JSON.stringify(c), c] as const))('safe: %s', (_, command) => {
    expect(isKnownSafeCommand(command)).toBe(true);
  });

  it.each(UNSAFE.map((c) => [JSON.stringify(c), c] as const))('not safe: %s', (_, command) => {
    expect(isKnownSafeCommand(command)).toBe(false);
  });

  it('refuses arguments that are not strings', () => {
    expect(isKnownSafeCommand(['ls', 1] as unknown as string[])).toBe(false);
    expect(isKnownSafeCommand('ls' as unknown as string[])).toBe(false);
  });

  it('lists the documented programs', () => {
    expect(SAFE_PROGRAMS).toEqual(
      [
        'basename', 'cat', 'cd', 'cmp', 'cut', 'date', 'df', 'diff', 'dirname', 'du', 'echo', 'env', 'false',
        'file', 'find', 'git', 'grep', 'head', 'ls', 'nl', 'printenv', 'pwd', 'readlink', 'realpath', 'rg',
        'sed', 'sort', 'stat', 'tail', 'tr', 'tree', 'true', 'uname', 'uniq', 'wc', 'which', 'whoami',
      ].sort(),
    );
  });
});

describe('splitScript', () => {
  it('returns the argv of each command, quotes removed', () => {
    expect(splitScript(`ls -la && cat 'a b' "c d" e\\ f | head -n 5; pwd\necho ''`, 'bash')).toEqual([
      ['ls', '-la'],
      ['cat', 'a b', 'c d', 'e f'],
      ['head', '-n', '5'],
      ['pwd'],
      ['echo', ''],
    ]);
  });

  it('keeps quoted operators and newlines inside their word', () => {
    expect(splitScript(`echo 'a; rm x' "b && c" 'd\ne'`, 'sh')).toEqual([['echo', 'a; rm x', 'b && c', 'd\ne']]);
  });

  it('refuses what it cannot read word for word', () => {
    for (const s of ['echo $X', 'echo a=$X', 'ls > x', 'ls *', 'a\\\nb', 'ls &', "echo 'x", 'ls || || ls']) {
      expect(splitScript(s, 'bash')).toBeUndefined();
    }
  });
});
