/**
 * The tool journal (docs/architecture.md decisions 2 and 9): `started` before a call that must not
 * run twice, `completed` with its output and the watchdog's digest of it after. Every tool is journaled, since the next
 * model step reads the output from here by reference. A retry finds `completed` and returns the
 * recorded output and digest, or finds only `started` and reports the call as interrupted
 * instead of running its side effects twice (an idempotent tool is simply run again). Each write
 * is fsynced and fenced to the activity attempt.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { failpoint } from '../durable/failpoints';
import { attemptToken, withFence } from '../durable/fence';
import { writeFileDurable } from '../durable/files';
import { fingerprintOf, type ToolOutputDigest } from './digest';
import { errorResult, type FinalToolOutput, finalizeToolOutput } from './output';

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
  /** Absent from entries written by workers before digests were journaled (see legacyDigestOfOutputText). */
  digest?: ToolOutputDigest;
}

export interface JournalOptions {
  /** The activity attempt's fencing token; defaults to the running activity's (see attemptToken). */
  token?: number;
  /** Re-running the tool is harmless (read_file, list_dir): a `started` entry means "run it again", not "interrupted". */
  idempotent?: boolean;
}

export interface JournalResult {
  output: string;
  digest: ToolOutputDigest;
  /** The output was recorded by an earlier attempt; the tool did not run now. */
  replayed: boolean;
  /** An earlier attempt crashed mid-call; the output is INTERRUPTED_OUTPUT and the tool did not run now. */
  interrupted: boolean;
}

function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function journalPath(home: string, runId: string, key: string): string {
  return join(home, 'journal', runId, `${safeName(key)}.json`);
}

/** Entries are small (outputs are capped), so they are read synchronously, as src/activities/durable/files.ts explains. */
function read(path: string): JournalEntry | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JournalEntry;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined; // written before writes were atomic: treat as never started
    throw err;
  }
}

async function write(path: string, entry: JournalEntry): Promise<void> {
  await writeFileDurable(path, JSON.stringify(entry));
}

type Decision = { run: false; result: JournalResult } | { run: true; startedAt: string };

function replayedResult(prior: JournalEntry): Decision {
  const output = prior.output ?? '';
  return { run: false, result: { output, digest: prior.digest ?? legacyDigestOfOutputText(output), replayed: true, interrupted: false } };
}

/**
 * A call that must not run twice: reading the entry and recording `started` happen under the
 * fence, so the decision is made on what the newest attempt sees, and `started` is on disk before
 * the side effects begin.
 */
function startOnce(path: string, call: { name: string; arguments: string }, token: number): Promise<Decision> {
  return withFence<Decision>(path, token, async () => {
    const prior = read(path);
    if (prior?.state === 'completed') return replayedResult(prior);
    const startedAt = new Date().toISOString();
    if (prior?.state === 'started') {
      const { output, digest } = finalizeToolOutput(errorResult(INTERRUPTED_OUTPUT, 'interrupted'));
      await write(path, { ...prior, state: 'completed', completedAt: startedAt, output, digest });
      return { run: false, result: { output, digest, replayed: false, interrupted: true } };
    }
    await write(path, { state: 'started', name: call.name, arguments: call.arguments, startedAt });
    return { run: true, startedAt };
  });
}

/**
 * A call that is harmless to repeat needs no `started` record (a retry runs it again either way):
 * a recorded output is reused, else it runs, and only its completion is fenced. An entry is
 * replaced atomically, so reading it outside the lock sees a whole entry.
 */
function idempotentStart(path: string): Decision {
  const prior = read(path);
  if (prior?.state === 'completed') return replayedResult(prior);
  return { run: true, startedAt: new Date().toISOString() };
}

export async function journaled(
  path: string,
  call: { name: string; arguments: string },
  run: () => Promise<FinalToolOutput>,
  options: JournalOptions = {},
): Promise<JournalResult> {
  const token = attemptToken(options.token);
  const decision = options.idempotent ? idempotentStart(path) : await startOnce(path, call, token);
  if (!decision.run) return decision.result;

  let final: FinalToolOutput;
  try {
    final = await run();
  } catch (err) {
    // An internal failure (not a crash): report it once rather than as "interrupted" on a retry.
    final = finalizeToolOutput(errorResult(`the tool failed inside the worker: ${err instanceof Error ? err.message : String(err)}`, 'internal'));
  }
  failpoint('tool.afterSideEffect');
  const completed: JournalEntry = {
    state: 'completed',
    name: call.name,
    arguments: call.arguments,
    startedAt: decision.startedAt,
    completedAt: new Date().toISOString(),
    output: final.output,
    digest: final.digest,
  };
  await withFence(path, token, () => write(path, completed));
  failpoint('tool.afterJournal');
  return { ...final, replayed: false, interrupted: false };
}

/**
 * The digest of a `completed` entry that has none: one written by a worker from before digests
 * were journaled (a worker upgraded mid-run finds its predecessor's entries). Only the text is
 * left then, so this — and nothing else — reads the digest back from it: an `Error:` prefix,
 * the interrupted text, a shell result's JSON — what that worker would have returned. (Its guess
 * takes an MCP answer that starts with `Error:` for a failure; a new entry's digest, made from the
 * tool's result, does not.)
 */
export function legacyDigestOfOutputText(output: string): ToolOutputDigest {
  const shell = legacyShellResult(output);
  const failed = shell ? shell.exitCode !== 0 : output.startsWith('Error:');
  const toolError =
    output === INTERRUPTED_OUTPUT
      ? 'interrupted'
      : output.startsWith('Error: the tool failed inside the worker')
        ? 'internal'
        : output.startsWith('Error:')
          ? 'error_output'
          : undefined;
  const fingerprint = fingerprintOf(shell ? `${shell.exitCode}\n${shell.output}` : output);
  return { failed, fingerprint, ...(toolError ? { toolError } : {}) };
}

/** A shell result's text `{"output": …, "metadata": {"exit_code": n, …}}`, else undefined. */
function legacyShellResult(output: string): { exitCode: number; output: string } | undefined {
  if (!output.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(output) as { output?: unknown; metadata?: { exit_code?: unknown } };
    const exitCode = parsed.metadata?.exit_code;
    if (typeof parsed.output !== 'string' || typeof exitCode !== 'number') return undefined;
    return { exitCode, output: parsed.output };
  } catch {
    return undefined;
  }
}

/** The recorded output of a completed tool call; a missing or unfinished entry is a non-retryable `JournalMissing`. */
export async function readJournalOutput(path: string): Promise<string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw journalMissing(`no tool journal entry at ${path}: the tool call's output was never recorded, or the file was deleted outside Infty`);
  }
  let entry: JournalEntry;
  try {
    entry = JSON.parse(text) as JournalEntry;
  } catch {
    throw journalMissing(`the tool journal entry at ${path} is not valid JSON; it was not written by a completed tool call`);
  }
  if (entry.state !== 'completed' || typeof entry.output !== 'string') {
    throw journalMissing(`the tool journal entry at ${path} is "${entry.state}", not "completed": the tool call has not finished`);
  }
  return entry.output;
}

function journalMissing(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'JournalMissing');
}
