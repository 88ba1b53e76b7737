/**
 * Change tracking for turn snapshots of big run directories (docs/architecture.md decision 13):
 * one `inotifywait -m -r` (inotify-tools) per watched run directory, in this worker process. Its
 * events name the paths a turn touched, so the next snapshot re-reads those instead of the tree.
 *
 * The watcher is trusted only while nothing can have been missed: it must have run since the
 * previous snapshot's walk began, with no error, no exit and no output on stderr (a directory it
 * could not watch). The kernel drops events when an inotify queue overflows, and inotifywait (like
 * libuv and @parcel/watcher) does not pass IN_Q_OVERFLOW on; but every queued event is printed
 * sooner or later, so a queue can only have overflowed in a window where at least
 * max_queued_events were printed. A window (snapshot to snapshot) with half that many events,
 * counting each event that may hide an unprinted IN_IGNORED twice, is treated as an overflow.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProgram } from './tools/which';

/** Cookie files: written into the watched tree and awaited, so every earlier event has been read. Never part of a snapshot. */
export const COOKIE_PREFIX = '.infty-snapshot-cookie-';

/** What a path's events said: `content` unless all were attribute changes (chmod, touch). */
export type Changes = Map<string, { content: boolean }>;

export interface WatchLimits {
  /** Trees with fewer files are walked: a walk of them is cheap, a watcher is a process. */
  minFiles: number;
  /** inotify watches (one per directory) all watchers of this process may hold. */
  maxWatches: number;
  /** Watchers (inotify instances, limited per user by the kernel) this process may run. */
  maxWatchers: number;
  /** A watcher not used for this long is stopped (its run is idle or finished). */
  idleMs: number;
  /** How long a cookie may take to come back before the watcher is given up. */
  cookieMs: number;
}

function kernelLimit(name: string, fallback: number): number {
  try {
    return Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim()) || fallback;
  } catch {
    return fallback;
  }
}

const limits: WatchLimits = {
  minFiles: 2_000,
  maxWatches: Math.min(100_000, Math.floor(kernelLimit('max_user_watches', 8_192) / 2)),
  maxWatchers: Math.floor(kernelLimit('max_user_instances', 128) / 2),
  idleMs: 10 * 60_000,
  cookieMs: 10_000,
};

/** Test hook: other limits for this process. */
export function setWatchLimits(next: Partial<WatchLimits>): void {
  Object.assign(limits, next);
}

export function watchLimits(): Readonly<WatchLimits> {
  return limits;
}

const EVENTS = 'modify,attrib,close_write,move,create,delete,delete_self,move_self,unmount';

export class RunWatcher {
  private changes: Changes = new Map();
  private weight = 0;
  private readonly weightLimit = Math.floor(kernelLimit('max_queued_events', 16_384) / 2);
  private buffer = '';
  private cookie?: { name: string; seen: () => void };
  private established = false;
  /** Why the watcher can no longer be trusted (it is stopped then). */
  failure?: string;
  /** The manifest (turn and file stamp) whose walk or change set this watcher has seen everything since. */
  baseline?: { turn: number; stamp: string };
  /** Files with more than one link: a write through another name raises no event here, so each snapshot re-reads them. */
  readonly multiLinked = new Set<string>();
  lastUsed = Date.now();
  private readonly ready: Promise<void>;

  private constructor(
    readonly key: string,
    readonly runDir: string,
    readonly watches: number,
    private readonly child: ChildProcess,
  ) {
    this.ready = new Promise<void>((resolve) => {
      let errText = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        if (this.established) {
          this.fail(`inotifywait: ${d.trim()}`);
          return;
        }
        errText += d;
        if (errText.includes('Watches established.')) {
          this.established = true;
          const rest = errText.slice(errText.indexOf('Watches established.') + 'Watches established.'.length).trim();
          if (rest) this.fail(`inotifywait: ${rest}`);
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        this.fail(`inotifywait exited (${signal ?? code})${errText.trim() ? `: ${errText.trim().split('\n').pop()}` : ''}`);
        resolve();
      });
      child.on('error', (err) => {
        this.fail(`inotifywait: ${err.message}`);
        resolve();
      });
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.read(d));
  }

  /** Starts watching `runDir`; resolves once every directory is watched, or undefined when it cannot be. */
  static async start(key: string, runDir: string, watches: number): Promise<RunWatcher | undefined> {
    const program = findProgram('inotifywait', process.env.PATH, '/');
    if (!('path' in program)) return undefined;
    const setpriv = findProgram('setpriv', process.env.PATH, '/');
    const args = ['-m', '-r', '-e', EVENTS, '--format', '%e %w%f%0', '--no-newline', runDir];
    // The watcher must not outlive the worker: setpriv asks the kernel to kill it with its parent.
    const child =
      'path' in setpriv
        ? spawn(setpriv.path, ['--pdeathsig', 'KILL', '--', program.path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(program.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new RunWatcher(key, runDir, watches, child);
    await w.ready;
    if (w.failure) return undefined;
    return w;
  }

  private read(data: string): void {
    this.buffer += data;
    let end = this.buffer.indexOf('\0');
    while (end >= 0) {
      this.event(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end + 1);
      end = this.buffer.indexOf('\0');
    }
  }

  private event(record: string): void {
    const space = record.indexOf(' ');
    const kinds = record.slice(0, space).split(',');
    const path = record.slice(space + 1);
    const prefix = `${this.runDir}/`;
    if (space < 0 || !path.startsWith(prefix)) {
      this.fail(`inotifywait printed an event outside ${this.runDir}: ${record.slice(0, 200)}`);
      return;
    }
    this.weight += kinds.some((k) => k === 'ISDIR' || k.endsWith('_SELF')) ? 2 : 1;
    if (this.weight >= this.weightLimit) {
      this.fail(`${this.weight} events since the last snapshot: the kernel's queue may have overflowed`);
      return;
    }
    if (kinds.includes('UNMOUNT') || kinds.includes('Q_OVERFLOW')) {
      this.fail(`inotifywait reported ${kinds.join(',')}`);
      return;
    }
    const rel = path.slice(prefix.length).replace(/\/$/, '');
    if (rel === '' && kinds.some((k) => k.endsWith('_SELF'))) {
      this.fail('the run directory itself was moved or deleted');
      return;
    }
    if (rel.startsWith(COOKIE_PREFIX)) {
      if (this.cookie?.name === rel && kinds.includes('CREATE')) this.cookie.seen();
      return;
    }
    if (rel === '') return;
    const content = kinds.some((k) => k !== 'ATTRIB' && k !== 'ISDIR');
    const was = this.changes.get(rel);
    this.changes.set(rel, { content: content || (was?.content ?? false) });
  }

  fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.cookie?.seen();
    this.stop();
  }

  /**
   * The paths changed since the last call (or since the watcher started), once a cookie written now
   * has come back: every event of an earlier write has then been read. Undefined when the watcher
   * has failed (the caller walks the tree).
   */
  async take(): Promise<Changes | undefined> {
    this.lastUsed = Date.now();
    if (this.failure) return undefined;
    const name = `${COOKIE_PREFIX}${randomBytes(8).toString('hex')}`;
    const seen = new Promise<void>((resolve) => {
      this.cookie = { name, seen: resolve };
    });
    const timer = setTimeout(() => this.fail(`no event for the cookie file within ${limits.cookieMs} ms`), limits.cookieMs);
    try {
      await writeFile(join(this.runDir, name), '');
      await seen;
    } catch (err) {
      this.fail(`cookie file: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
      this.cookie = undefined;
      await unlink(join(this.runDir, name)).catch(() => undefined);
    }
    if (this.failure) return undefined;
    const changes = this.changes;
    this.changes = new Map();
    this.weight = 0;
    return changes;
  }

  stop(): void {
    if (watchers.get(this.key) === this) watchers.delete(this.key);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Test hook: the watcher process (to stop it, or make it miss events). */
  get pid(): number | undefined {
    return this.child.pid;
  }
}

/** By store, run and directory: a watcher serves the snapshots of one run. */
const watchers = new Map<string, RunWatcher>();
let sweeper: NodeJS.Timeout | undefined;

function keyOf(home: string, runId: string, runDir: string): string {
  return `${home}\0${runId}\0${runDir}`;
}

export function watcherOf(home: string, runId: string, runDir: string): RunWatcher | undefined {
  return watchers.get(keyOf(home, runId, runDir));
}

/** Starts a watcher for the run's directory (replacing any) when the limits allow it: `watches` directories more must fit. */
export async function startWatcher(home: string, runId: string, runDir: string, watches: number): Promise<RunWatcher | undefined> {
  const key = keyOf(home, runId, runDir);
  watchers.get(key)?.stop();
  let held = 0;
  for (const w of watchers.values()) held += w.watches;
  if (held + watches > limits.maxWatches || watchers.size >= limits.maxWatchers) return undefined;
  const w = await RunWatcher.start(key, runDir, watches);
  if (!w) return undefined;
  watchers.set(key, w);
  sweeper ??= setInterval(stopIdleWatchers, 60_000).unref();
  return w;
}

/** Stops the watchers not used for `idleMs` (every minute, and callable by tests). */
export function stopIdleWatchers(): void {
  const now = Date.now();
  for (const w of [...watchers.values()]) if (now - w.lastUsed > limits.idleMs) w.stop();
}

/** Stops every watcher of this process (worker shutdown). */
export function stopSnapshotWatchers(): void {
  for (const w of [...watchers.values()]) w.stop();
  if (sweeper) clearInterval(sweeper);
  sweeper = undefined;
}
