/**
 * Named crash points (as FoundationDB's simulation, TiKV's fail-rs, etcd's gofail): a test sets
 * INFTY_FAILPOINTS=name[,name…] on a worker process, and the first time execution reaches a named
 * point the process kills itself with SIGKILL, exactly as a crashed machine would stop there.
 * Without the variable every failpoint is a no-op. Names in use are listed in FAILPOINTS.
 */
export const FAILPOINTS = [
  /** A model response was received but not yet written to the transcript (the one window that cannot be closed). */
  'model.afterResponse',
  /** The model step's output is in the transcript (fsynced); the activity has not completed. */
  'model.afterAppend',
  /** A tool's side effect happened; its journal entry still says `started`. */
  'tool.afterSideEffect',
  /** The tool's journal entry says `completed`; the activity has not completed. */
  'tool.afterJournal',
  /** run.json's temporary file is written, not yet renamed over run.json. */
  'runStore.beforeRename',
  /**
   * createRun made the run directory and run.json; the creation is not in history yet (a new run's
   * local activity is recorded only when its first workflow task completes).
   */
  'createRun.afterCreate',
  /** Compaction wrote the new generation; the activity has not completed. */
  'compaction.afterWrite',
  /** recordItems appended its items; the activity has not completed. */
  'recordItems.afterAppend',
  /** A project copy has written some of its files (docs/behaviour.md §4.4); the run directory does not exist yet. */
  'project.midCopy',
] as const;

export type FailpointName = (typeof FAILPOINTS)[number];

function enabled(): Set<string> {
  return new Set(
    (process.env.INFTY_FAILPOINTS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

const active = enabled();

/** Whether `failpoint(name)` would crash this process. */
export function failpointArmed(name: FailpointName): boolean {
  return active.size > 0 && active.has(name);
}

/** Crashes this process (SIGKILL) when `name` is enabled by INFTY_FAILPOINTS; otherwise does nothing. */
export function failpoint(name: FailpointName): void {
  if (!failpointArmed(name)) return;
  process.stderr.write(`failpoint ${name}: killing worker process ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}
