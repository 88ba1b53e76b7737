/**
 * The tool journal (ARCHITECTURE decision 2): `started` before a side-effecting call, `completed`
 * with its output after. A retry finds `completed` and returns the recorded output, or finds only
 * `started` and reports the call as interrupted instead of running its side effects twice.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const INTERRUPTED_OUTPUT =
  'This tool call was interrupted by a crash of the worker running it; its effects may be partial. ' +
  'It was not re-run. Inspect the current state before retrying it.';

interface JournalEntry {
  state: 'started' | 'completed';
  name: string;
  arguments: string;
  startedAt: string;
  completedAt?: string;
  output?: string;
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function journalPath(home: string, runId: string, key: string): string {
  return join(home, 'journal', runId, `${safeName(key)}.json`);
}

async function read(path: string): Promise<JournalEntry | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as JournalEntry;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined; // torn write of `started`: nothing ran yet
    throw err;
  }
}

async function write(path: string, entry: JournalEntry): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, path);
}

export async function journaled(
  path: string,
  call: { name: string; arguments: string },
  run: () => Promise<string>,
): Promise<{ output: string; replayed: boolean; interrupted: boolean }> {
  const prior = await read(path);
  if (prior?.state === 'completed') return { output: prior.output ?? '', replayed: true, interrupted: false };
  const startedAt = new Date().toISOString();
  if (prior?.state === 'started') {
    await write(path, { ...prior, state: 'completed', completedAt: startedAt, output: INTERRUPTED_OUTPUT });
    return { output: INTERRUPTED_OUTPUT, replayed: false, interrupted: true };
  }
  await mkdir(join(path, '..'), { recursive: true });
  await write(path, { state: 'started', name: call.name, arguments: call.arguments, startedAt });
  let output: string;
  try {
    output = await run();
  } catch (err) {
    // An internal failure (not a crash): report it once rather than as "interrupted" on a retry.
    output = `Error: the tool failed inside the worker: ${err instanceof Error ? err.message : String(err)}`;
  }
  await write(path, { state: 'completed', name: call.name, arguments: call.arguments, startedAt, completedAt: new Date().toISOString(), output });
  return { output, replayed: false, interrupted: false };
}
