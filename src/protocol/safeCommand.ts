/**
 * The read-only safe list (docs/behaviour.md §7.7): `isKnownSafeCommand(argv)` is true only for a
 * `shell` call that cannot write a file, run another program or reach the network. Under
 * `--approval untrusted` every other command waits for a person. Conservative: whatever it does
 * not recognize is not safe.
 *
 * Pure, no imports: the workflow bundle may import it. Shell scripts (`bash -lc "…"`) are read by
 * the small lexer below rather than a general shell parser: it accepts only words, quotes and the
 * operators `&&` `||` `;` `|` and newline, and refuses every character that could expand into
 * something else, so the words it returns are exactly the argv the shell would run. (`shell-quote`'s
 * `parse` does not fit: it reads a newline as a space, keeps `"$(rm x)"` and backticks as plain
 * text and turns `$X` into an empty word, so its words are not what the shell runs; it also calls
 * Math.random when loaded.)
 */

/** The shells whose `-c` / `-lc` script is read; the script must be their only argument. */
const SHELLS = new Set(['bash', 'sh', 'zsh']);
const SCRIPT_FLAGS = new Set(['-c', '-lc']);

export type Shell = 'bash' | 'sh' | 'zsh';

/** True when `command` (the `shell` tool's argv) is on the read-only safe list. */
export function isKnownSafeCommand(command: readonly string[]): boolean {
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) return false;
  const [program, flag, script] = command;
  if (SHELLS.has(program!)) {
    if (command.length !== 3 || !SCRIPT_FLAGS.has(flag!)) return false;
    const commands = splitScript(script!, program as Shell);
    return commands?.every(isSafeSimpleCommand) === true;
  }
  return isSafeSimpleCommand(command);
}

/** One command without a shell: its program is on the list and its arguments pass that program's rule. */
function isSafeSimpleCommand(argv: readonly string[]): boolean {
  const rule = RULES.get(argv[0] ?? '');
  return rule?.(argv.slice(1)) === true;
}

// ---------------------------------------------------------------------------------------------
// The script lexer

/** Characters a word may hold unquoted: none of them is special to bash, sh or zsh. */
const PLAIN = /^[A-Za-z0-9_\-./,:@%+!=]$/;

/**
 * The simple commands of a `-c` script, in order, or undefined when the script uses anything but
 * plain words (quoted or not) joined by `&&`, `||`, `;`, `|` or newlines: redirections, `&`,
 * `$` (variables, `$(…)`), backticks, subshells, braces, globs, comments, line continuations and
 * assignments' leading `=`… are all refused. An unterminated quote is refused too.
 */
export function splitScript(script: string, shell: Shell): string[][] | undefined {
  const commands: string[][] = [];
  let current: string[] = [];
  let word = '';
  let inWord = false;
  /** The last operator (`&&`, `||`, `|`) still needs a command after it. */
  let needCommand = false;

  const endWord = () => {
    if (inWord) current.push(word);
    word = '';
    inWord = false;
  };
  /** Ends the current command at an operator; false for an operator with no command before it. */
  const endCommand = (op: string): boolean => {
    endWord();
    if (current.length === 0) return op === '\n';
    commands.push(current);
    current = [];
    needCommand = op === '&&' || op === '||' || op === '|';
    return true;
  };

  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word += script.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      // Literal except `"` and `\"`, `\\`; `$`, backticks and other backslashes are refused.
      let j = i + 1;
      for (;;) {
        const d = script[j];
        if (d === undefined || d === '$' || d === '`') return undefined;
        if (d === '"') break;
        if (d === '\\') {
          const e = script[j + 1];
          if (e !== '"' && e !== '\\') return undefined;
          word += e;
          j += 2;
        } else {
          word += d;
          j += 1;
        }
      }
      inWord = true;
      i = j;
    } else if (c === '\\') {
      // An escaped character stands for itself; a line continuation is refused.
      const e = script[i + 1];
      if (e === undefined || e === '\n' || e === '\r') return undefined;
      word += e;
      inWord = true;
      i += 1;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '\n' || c === ';') {
      if (!endCommand(c)) return undefined;
    } else if (c === '&') {
      if (script[i + 1] !== '&' || !endCommand('&&')) return undefined;
      i += 1;
    } else if (c === '|') {
      if (script[i + 1] === '&') return undefined;
      const op = script[i + 1] === '|' ? '||' : '|';
      if (!endCommand(op)) return undefined;
      i += op.length - 1;
    } else if (c === '~' || c === '^') {
      // `HEAD~2`, `HEAD^` in bash and sh, where both are literal inside a word; never at a word's
      // start (`~` expands to a home directory) and never in zsh (EXTENDED_GLOB makes them globs).
      if (shell === 'zsh' || word.length === 0 || !/^[A-Za-z0-9^~]$/.test(script[i - 1] ?? '')) return undefined;
      word += c;
    } else if (PLAIN.test(c)) {
      // `=` may not start a word: zsh expands `=ls` to a path (and `X=1 cmd` is an assignment).
      if (c === '=' && word.length === 0) return undefined;
      word += c;
      inWord = true;
    } else {
      return undefined;
    }
  }
  endWord();
  if (current.length > 0) commands.push(current);
  else if (needCommand) return undefined;
  return commands.length > 0 ? commands : undefined;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

/** `-xyz`: a cluster of short options (not `-`, not `--…`). */
const isShort = (a: string) => a.length > 1 && a.startsWith('-') && !a.startsWith('--');

/** A cluster of short options holding one of `letters` (a value attached to an option counts too). */
const shortHas = (a: string, letters: string) => isShort(a) && [...letters].some((l) => a.includes(l));

/**
 * `--name` or `--name=value` whose name is one of `names` or a prefix of one: GNU getopt and git
 * accept unambiguous abbreviations (`--out=x` is `--output=x`). `--` alone is not an option.
 */
function longIs(a: string, names: readonly string[]): boolean {
  if (!a.startsWith('--') || a.length === 2) return false;
  const name = a.slice(2).split('=')[0]!;
  return names.some((n) => n.startsWith(name));
}

const ANY = (): boolean => true;

// ---------------------------------------------------------------------------------------------
// The rules, one per program (docs/behaviour.md §7.7)

/** `tail` without following (`-f`, `-F`, `--follow`, the obsolete `+5f`): it would never end. */
const tail = (args: readonly string[]) => !args.some((a) => ((isShort(a) || a.startsWith('+')) && /[fF]/.test(a)) || longIs(a, ['follow']));

/**
 * `date` that only prints: options without `-s`/`--set`, a `+FORMAT`, the value after
 * `-d`/`-f`/`-r`/`--date`/`--file`/`--reference`. Any other operand (`MMDDhhmm…`) sets the clock.
 */
function date(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('+')) continue;
    if (a.startsWith('--') && a.length > 2) {
      if (longIs(a, ['set'])) return false;
      if (a === '--date' || a === '--file' || a === '--reference') i += 1;
    } else if (isShort(a)) {
      if (a.includes('s')) return false;
      if (a === '-d' || a === '-f' || a === '-r') i += 1;
    } else {
      return false;
    }
  }
  return true;
}

/** `file` without `-C`/`--compile` (writes a `.mgc`) or `-z`/`-Z`/`--uncompress` (may run a decompressor). */
const file = (args: readonly string[]) => !args.some((a) => shortHas(a, 'CzZ') || longIs(a, ['compile', 'uncompress', 'uncompress-noreport']));

/** `tree` without `-o FILE` (writes it) or `-R` (writes `00Tree.html` in every directory). */
const tree = (args: readonly string[]) => !args.some((a) => shortHas(a, 'oR') || longIs(a, ['output']));

/** `sort` without `-o`/`--output` (writes a file) or `--compress-program` (runs one). */
const sort = (args: readonly string[]) => !args.some((a) => shortHas(a, 'o') || longIs(a, ['output', 'compress-program']));

/** `uniq` with at most one file operand: a second one is the output file. */
function uniq(args: readonly string[]): boolean {
  let operands = 0;
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!options || a === '-' || !a.startsWith('-')) operands += 1;
    else if (a === '--') options = false;
    // The separate value of these options is not an operand; anything unsure counts as one.
    else if (['-f', '-s', '-w', '--skip-fields', '--skip-chars', '--check-chars'].includes(a)) i += 1;
  }
  return operands <= 1;
}

/** `env` only to print the environment: no arguments but `-0`/`--null` (anything else may run a command). */
const env = (args: readonly string[]) => args.every((a) => a === '-0' || a === '--null');

const FIND_UNSAFE = new Set(['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fls', '-fprint', '-fprint0', '-fprintf']);

/** `find` without actions that run programs, delete or write files. */
const find = (args: readonly string[]) => !args.some((a) => FIND_UNSAFE.has(a));

/** `rg` without preprocessors (`--pre`, `--pre-glob`), `--hostname-bin`, or `-z`/`--search-zip` (runs decompressors). */
const rg = (args: readonly string[]) => !args.some((a) => shortHas(a, 'z') || longIs(a, ['pre', 'pre-glob', 'hostname-bin', 'search-zip']));

/** A sed address: a line number, `$`, or `/regex/` without `/`, backslashes or newlines inside. */
const SED_ADDRESS = String.raw`(?:\d+|\$|/[^/\\\n]*/)`;
const SED_PRINT_COMMAND = `(?:${SED_ADDRESS}(?:,${SED_ADDRESS})?)?p`;
const SED_PRINT_SCRIPT = new RegExp(`^${SED_PRINT_COMMAND}(?:;${SED_PRINT_COMMAND})*$`);

/** `sed -n SCRIPT [FILE…]` where the script only prints (`1,20p`, `$p`, `/re/p`, `1p;5p`); files not starting with `-`. */
function sed(args: readonly string[]): boolean {
  const [flag, script, ...files] = args;
  return flag === '-n' && script !== undefined && SED_PRINT_SCRIPT.test(script) && files.every((f) => !f.startsWith('-'));
}

/** git subcommands that only read; `branch` and `tag` only when listing. */
const GIT_READ_ONLY = new Set(['status', 'log', 'diff', 'show', 'rev-parse', 'ls-files', 'blame', 'describe']);
/** The only options allowed before the subcommand (no `-c`, `--config-env`, `-C`, `--git-dir`, `--exec-path`…). */
const GIT_GLOBAL_OK = new Set(['--no-pager', '-P']);
/** Options refused after any subcommand: they write a file or run a program (`--help` runs `man` or a browser). */
const GIT_UNSAFE_LONG = ['output', 'ext-diff', 'textconv', 'exec-path', 'config-env', 'help'];
/** Listing options of `git branch` and `git tag` (with `=value` too). */
const GIT_LIST_LONG = new Set([
  'list',
  'all',
  'remotes',
  'verbose',
  'show-current',
  'ignore-case',
  'sort',
  'format',
  'color',
  'no-color',
  'column',
  'no-column',
  'contains',
  'no-contains',
  'merged',
  'no-merged',
  'points-at',
]);

function git(args: readonly string[]): boolean {
  let i = 0;
  while (i < args.length && GIT_GLOBAL_OK.has(args[i]!)) i += 1;
  const sub = args[i];
  const rest = args.slice(i + 1);
  if (rest.some((a) => longIs(a, GIT_UNSAFE_LONG))) return false;
  if (sub === 'diff' || sub === 'log' || sub === 'show') {
    if (rest.some((a) => a.startsWith('-o'))) return false;
  }
  if (sub !== undefined && GIT_READ_ONLY.has(sub)) return true;
  if (sub === 'branch') return gitListing(rest, /^-[arvli]+$/);
  if (sub === 'tag') return gitListing(rest, /^-(?:[li]|n\d*)$/);
  return false;
}

/**
 * `git branch` / `git tag` that list: every option a listing one, and names (patterns) only after
 * `-l`/`--list` (otherwise a name creates a branch or tag).
 */
function gitListing(args: readonly string[], shortOk: RegExp): boolean {
  let listed = false;
  let names = false;
  for (const a of args) {
    if (a === '-l' || a === '--list') listed = true;
    if (a.startsWith('--') && a.length > 2) {
      if (!GIT_LIST_LONG.has(a.slice(2).split('=')[0]!)) return false;
    } else if (a.startsWith('-')) {
      if (!shortOk.test(a)) return false;
      if (a.includes('l')) listed = true;
    } else {
      names = true;
    }
  }
  return listed || !names;
}

/** The safe list: program name (exactly, not a path) → rule on its arguments. A Map, so `constructor` is not a program. */
const RULES = new Map<string, (args: readonly string[]) => boolean>([
  ...['cat', 'cd', 'echo', 'false', 'grep', 'head', 'ls', 'nl', 'pwd', 'true', 'wc', 'which', 'whoami', 'uname', 'stat'].map((p) => [p, ANY] as const),
  ...['du', 'df', 'basename', 'dirname', 'realpath', 'readlink', 'diff', 'cmp', 'cut', 'tr', 'printenv'].map((p) => [p, ANY] as const),
  ['tail', tail],
  ['date', date],
  ['file', file],
  ['tree', tree],
  ['sort', sort],
  ['uniq', uniq],
  ['env', env],
  ['find', find],
  ['rg', rg],
  ['sed', sed],
  ['git', git],
]);

/** The programs on the safe list, for documentation and tests. */
export const SAFE_PROGRAMS: readonly string[] = [...RULES.keys()].sort();
