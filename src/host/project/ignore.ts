/**
 * What a project copy leaves out when the source is not a git work tree (docs/behaviour.md §4.4):
 * version-control metadata, dependency folders, caches and build output that tools recreate. In a
 * git work tree git's own rules (.gitignore, info/exclude, the global excludes file) decide instead.
 */

/** Directory names skipped wherever they occur. */
export const DEFAULT_IGNORED_DIRS = [
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  'bower_components',
  '.venv',
  'venv',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.ruff_cache',
  '.tox',
  '.nox',
  '.gradle',
  '.next',
  '.nuxt',
  '.turbo',
  '.parcel-cache',
  '.cache',
  '.terraform',
  'dist',
  'build',
  'target',
  'coverage',
] as const;

/** File name suffixes skipped wherever they occur. */
export const DEFAULT_IGNORED_SUFFIXES = ['.pyc', '.pyo', '.class', '.o', '.DS_Store', 'Thumbs.db'] as const;

const dirs = new Set<string>(DEFAULT_IGNORED_DIRS);

export function isIgnoredDir(name: string): boolean {
  return dirs.has(name);
}

export function isIgnoredFile(name: string): boolean {
  return DEFAULT_IGNORED_SUFFIXES.some((s) => name.endsWith(s));
}

/** The same rules as a git excludes file (used when diffing a project that did not come from git). */
export function defaultExcludesText(): string {
  return `${[...DEFAULT_IGNORED_DIRS.filter((d) => d !== '.git').map((d) => `${d}/`), ...DEFAULT_IGNORED_SUFFIXES.map((s) => `*${s}`)].join('\n')}\n`;
}
