/**
 * Writes that survive a crash of the process or the machine (docs/architecture.md decision 10): data is
 * fsynced before it counts as written, and a replaced file is either entirely old or entirely new.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type FailpointName, failpoint } from './failpoints';

export interface DurableWriteOptions {
  /** A failpoint reached after the temporary file is written and fsynced, before the rename. */
  beforeRename?: FailpointName;
}

/**
 * Replaces `path` atomically: temp file in the same directory, fsync, rename over, fsync the
 * directory. The temp file's name is fixed, so a write cut short by a crash leaves nothing behind
 * once the next write of the same path succeeds (no stray file in the Solver's workspace); callers
 * serialize writes of one path (the fence lock does).
 */
export async function writeFileDurable(path: string, data: string | Uint8Array, options: DurableWriteOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.beforeRename) failpoint(options.beforeRename);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Appends `data` to `path` (creating it) and fsyncs it; a newly created file's directory entry too. */
export async function appendDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'a');
  let wasEmpty: boolean;
  try {
    wasEmpty = (await handle.stat()).size === 0;
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (wasEmpty) await syncDirectory(dirname(path));
}

/** Makes a rename or a file creation in `dir` durable (the directory entry lives in the directory). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Platforms that cannot open or fsync a directory (Windows) have nothing to flush this way.
    if (!['EISDIR', 'EPERM', 'EINVAL'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}
