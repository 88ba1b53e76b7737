/**
 * The file system proper-lockfile uses: Node's, except that taking a lock in a directory that does
 * not exist yet creates the directory and tries again. The directory is made on a resource's
 * first write instead of being checked before every lock (one round trip fewer per write).
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';

type Callback = (err: NodeJS.ErrnoException | null) => void;

function mkdir(path: string, callback: Callback): void {
  fs.mkdir(path, (err) => {
    if (err?.code !== 'ENOENT') return callback(err);
    fs.mkdir(dirname(path), { recursive: true }, (parentErr) => (parentErr ? callback(parentErr) : fs.mkdir(path, callback)));
  });
}

/** The calls proper-lockfile makes (rmdirSync: at exit, for the locks still held). */
export const lockFs = { mkdir, rmdir: fs.rmdir, stat: fs.stat, utimes: fs.utimes, realpath: fs.realpath, rmdirSync: fs.rmdirSync };
