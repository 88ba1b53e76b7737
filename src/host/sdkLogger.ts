/**
 * The Temporal SDK's logger for CLI processes, minus one warning that is expected here. A process
 * that runs a worker for its own command (run, create, demo) sends it to a file instead, with one
 * line per failure on the terminal (docs/interface.md §4 "Logs").
 */

import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatWithOptions } from 'node:util';
import { DefaultLogger, type LogEntry, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * In local storage a worker's second SDK worker polls only activities (its owner queue,
 * docs/architecture.md decision 12); the SDK warns about every such worker at start.
 */
const ACTIVITY_ONLY_WORKER = 'No workflows registered, not polling for workflow tasks';

/** `$INFTY_HOME/logs/worker-<YYYYMMDD>.log` (UTC date of the day the worker started). */
export function workerLogFile(home: string, now = new Date()): string {
  return join(home, 'logs', `worker-${now.toISOString().slice(0, 10).replace(/-/g, '')}.log`);
}

const SUMMARY_MAX_CHARS = 300;

function firstLine(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length <= SUMMARY_MAX_CHARS ? line : `${line.slice(0, SUMMARY_MAX_CHARS)}…`;
}

function errorMessage(meta: LogMetadata | undefined): string | undefined {
  const error = meta?.error ?? meta?.failure;
  if (error instanceof Error) return firstLine(error.message);
  return typeof error === 'string' ? firstLine(error) : undefined;
}

/** Appends entries to a file (no colours, the process id on every entry) and sums up each warning or error in one line. */
class FileSink {
  private readonly fd: number;
  /** Other warnings than failed activities are summed up once each: a retrying connection must not flood the terminal. */
  private readonly summed = new Set<string>();

  constructor(
    readonly path: string,
    private readonly summary: (line: string) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, 'a', 0o600);
  }

  write(entry: LogEntry): void {
    const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const meta = entry.meta === undefined ? '' : ` ${formatWithOptions({ colors: false, depth: 4 }, entry.meta)}`;
    try {
      writeSync(this.fd, `${at} [${entry.level}] pid ${process.pid}: ${entry.message}${meta}\n`);
    } catch (err) {
      process.stderr.write(`infty: worker log ${this.path} not writable (${(err as Error).message}): ${entry.message}\n`);
    }
    if (entry.level === 'WARN' || entry.level === 'ERROR') this.sum(entry.message, entry.meta);
  }

  private sum(message: string, meta: LogMetadata | undefined): void {
    const why = errorMessage(meta);
    const where = `details in ${this.path}`;
    if (message === 'Activity failed' && typeof meta?.activityType === 'string') {
      const run = typeof meta.workflowId === 'string' ? ` of run ${meta.workflowId}` : '';
      const attempt = typeof meta.attempt === 'number' ? ` (attempt ${meta.attempt})` : '';
      this.summary(`worker: ${meta.activityType}${run} failed${attempt}${why ? `: ${why}` : ''} — ${where}`);
      return;
    }
    if (this.summed.has(message)) return;
    this.summed.add(message);
    const run = typeof meta?.workflowId === 'string' ? ` (run ${meta.workflowId})` : '';
    this.summary(`worker: ${firstLine(message)}${run}${why ? `: ${why}` : ''} — ${where} (repeats are logged there only)`);
  }
}

export class SdkLogger extends DefaultLogger {
  private file: DefaultLogger | undefined;

  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === ACTIVITY_ONLY_WORKER) return;
    if (this.file) this.file.log(level, message, meta);
    else super.log(level, message, meta);
  }

  /**
   * From now on every entry goes to `path` (appended; its directory made with mode 0700, the file
   * 0600), and each warning or error also to `summary` as one line naming the file: no stack
   * traces or task tokens on the terminal. Throws when the file cannot be opened.
   */
  toFile(path: string, summary: (line: string) => void): void {
    const sink = new FileSink(path, summary);
    this.file = new DefaultLogger(this.level, (entry) => sink.write(entry));
  }
}
