/**
 * Writes that survive a crash of the process or the machine (docs/architecture.md decision 10): data is
 * fdatasynced before it counts as written, and a replaced file is either entirely old or entirely new.
 * The system calls of each write run together on a disk thread (./diskThreads).
 */
import { basename, dirname, join } from 'node:path';
import { onDiskThread } from './diskThreads';
import { type FailpointName, failpoint, failpointArmed } from './failpoints';

export interface DurableWriteOptions {
  /** A failpoint reached after the temporary file is written and fsynced, before the rename. */
  beforeRename?: FailpointName;
}

/**
 * Replaces `path` atomically: temp file in the same directory, fdatasync, rename over, fsync the
 * directory. The temp file's name is fixed, so a write cut short by a crash leaves nothing behind
 * once the next write of the same path succeeds (no stray file in the Solver's workspace); callers
 * serialize writes of one path (the fence lock does).
 */
export async function writeFileDurable(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  if (options.beforeRename && failpointArmed(options.beforeRename)) {
    await onDiskThread('writeSynced', tmp, data);
    failpoint(options.beforeRename);
    await onDiskThread('publish', tmp, path);
    return;
  }
  await onDiskThread('replace', tmp, path, data);
}

/** Appends `data` to `path` (creating it) and fdatasyncs it; a newly created file's directory entry too. */
export async function appendDurable(path: string, data: string | Uint8Array): Promise<void> {
  await onDiskThread('append', path, data);
}
