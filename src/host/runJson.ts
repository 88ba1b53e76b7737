/** Reading a run directory's run.json (docs/behaviour.md §4), for the worker's run store and the CLI. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunJson {
  run_id: string;
  created_at: string;
  updated_at: string;
  objective: string;
  status: string;
  sandbox: 'bwrap' | 'none';
  /** rollout_path: the role's newest transcript that exists; null before its first model step. */
  roles: { role: string; model: string; rollout_path: string | null }[];
  /** The Temporal execution that owns this run (makes createRun idempotent on retry). */
  workflow_run_id?: string;
  [extra: string]: unknown;
}

/** The run.json of `runDir`, or undefined when there is none. */
export async function readRunJson(runDir: string): Promise<RunJson | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8')) as RunJson;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
