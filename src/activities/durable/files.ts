/**
 * Writes that survive a crash of the process or the machine (docs/architecture.md decision 10): data is
 * fsynced before it counts as written, and a replaced file is either entirely old or entirely new.
 *
 * Only the waits for the disk (fdatasync, fsync) go to libuv's thread pool. The other calls —
 * open, write into the page cache, close, rename — are made synchronously: each costs microseconds
 * of system call, while an asynchronous call costs a thread-pool round trip that, on a busy worker,
 * took longer than the fsync itself (docs/architecture.md, "Worker tuning", has the figures).
 * Data larger than SYNC_WRITE_LIMIT is written asynchronously, so no event-loop turn copies megabytes.
 */
import { closeSync, fdatasync, fstatSync, fsync, openSync, renameSync, unlinkSync, writeFile, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type FailpointName, failpoint } from './failpoints';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const writeFileAsync = promisify(writeFile);

/** Above this many bytes a write is handed to the thread pool instead of made in the event loop. */
export const SYNC_WRITE_LIMIT = 256 * 1024;

export interface DurableWriteOptions {
  /** A failpoint reached after the temporary file is written and fsynced, before the rename. */
  beforeRename?: FailpointName;
}

async function writeAll(fd: number, data: string | Uint8Array): Promise<void> {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size <= SYNC_WRITE_LIMIT) writeFileSync(fd, data);
  else await writeFileAsync(fd, data);
}

/**
 * Replaces `path` atomically: temp file in the same directory, fdatasync, rename over, fsync the
 * directory. The temp file's name is fixed, so a write cut short by a crash leaves nothing behind
 * once the next write of the same path succeeds (no stray file in the Solver's workspace); callers
 * serialize writes of one path (the fence lock does).
 */
export async function writeFileDurable(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      await writeAll(fd, data);
      await fdatasyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.beforeRename) failpoint(options.beforeRename);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Appends `data` to `path` (creating it) and fdatasyncs it; a newly created file's directory entry too. */
export async function appendDurable(path: string, data: string | Uint8Array): Promise<void> {
  const fd = openSync(path, 'a');
  let wasEmpty: boolean;
  try {
    wasEmpty = fstatSync(fd).size === 0;
    await writeAll(fd, data);
    await fdatasyncAsync(fd);
  } finally {
    closeSync(fd);
  }
  if (wasEmpty) await syncDirectory(dirname(path));
}

/** Makes a rename or a file creation in `dir` durable (the directory entry lives in the directory). */
export async function syncDirectory(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncAsync(fd);
  } catch (err) {
    // Platforms that cannot open or fsync a directory (Windows) have nothing to flush this way.
    if (!['EISDIR', 'EPERM', 'EINVAL'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
