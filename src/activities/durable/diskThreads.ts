/**
 * A few threads that make a durable write's system calls in one go (docs/architecture.md decision
 * 10). A durable replace is eight calls (open, write, fdatasync, close, rename, open, fsync,
 * close) and an append five; through libuv's thread pool each call is a round trip to the event
 * loop, and on a busy worker the round trips cost more than the fsyncs. Here each write is one
 * round trip, and nothing that may wait for the disk runs on the event loop.
 */
import { Worker } from 'node:worker_threads';

/** The threads' code (plain JavaScript: it runs as given, under vitest as in the built worker). */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname } = require('node:path');
function syncDirectory(dir) {
  let fd;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    // Platforms that cannot open or fsync a directory (Windows) have nothing to flush this way.
    if (!['EISDIR', 'EPERM', 'EINVAL'].includes(err.code)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
function writeSynced(path, data) {
  const fd = fs.openSync(path, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
function discard(path) {
  try { fs.unlinkSync(path); } catch {}
}
const ops = {
  writeSynced(tmp, data) {
    try { writeSynced(tmp, data); } catch (err) { discard(tmp); throw err; }
  },
  publish(tmp, path) {
    try { fs.renameSync(tmp, path); } catch (err) { discard(tmp); throw err; }
    syncDirectory(dirname(path));
  },
  replace(tmp, path, data) {
    ops.writeSynced(tmp, data);
    ops.publish(tmp, path);
  },
  append(path, data) {
    const fd = fs.openSync(path, 'a');
    let wasEmpty;
    try {
      wasEmpty = fs.fstatSync(fd).size === 0;
      fs.writeFileSync(fd, data);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (wasEmpty) syncDirectory(dirname(path));
  },
};
parentPort.on('message', ({ id, op, args }) => {
  try {
    ops[op](...args);
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path } });
  }
});
`;

export type DiskOp = 'writeSynced' | 'publish' | 'replace' | 'append';

/** Like libuv's default pool: enough for fsyncs of different files to overlap. */
export const DISK_THREADS = 4;

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

interface DiskThread {
  worker: Worker;
  pending: Map<number, Pending>;
}

const threads: DiskThread[] = [];
let nextId = 0;

function start(): DiskThread {
  const worker = new Worker(SOURCE, { eval: true });
  const thread: DiskThread = { worker, pending: new Map() };
  worker.on('message', (m: { id: number; error?: NodeJS.ErrnoException }) => {
    const p = thread.pending.get(m.id);
    if (!p) return;
    thread.pending.delete(m.id);
    if (thread.pending.size === 0) worker.unref();
    if (m.error) p.reject(Object.assign(new Error(m.error.message), m.error));
    else p.resolve();
  });
  worker.on('error', (err) => {
    for (const p of thread.pending.values()) p.reject(err);
    thread.pending.clear();
    threads.splice(threads.indexOf(thread), 1);
  });
  worker.unref(); // idle threads never keep the process alive
  return thread;
}

/** The thread with the fewest writes in flight (started on first use). */
function pick(): DiskThread {
  if (threads.length < DISK_THREADS) {
    const idle = threads.find((t) => t.pending.size === 0);
    if (idle) return idle;
    const t = start();
    threads.push(t);
    return t;
  }
  return threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
}

/** Runs one write's calls on a disk thread; rejects with the system call's error (its `code` kept). */
export function onDiskThread(op: DiskOp, ...args: (string | Uint8Array)[]): Promise<void> {
  const thread = pick();
  const id = nextId++;
  return new Promise<void>((resolve, reject) => {
    thread.pending.set(id, { resolve, reject });
    thread.worker.ref(); // a write in flight keeps the process alive until it is on disk
    thread.worker.postMessage({ id, op, args });
  });
}
