/**
 * The file-system calls proper-lockfile makes (mkdir and rmdir of the lock directory, stat and
 * utimes to keep it fresh), made synchronously and answered on the next tick. They touch one
 * directory entry each and cost microseconds; through libuv's thread pool each one cost a
 * round trip, four per lock (see src/activities/durable/files.ts for the same choice).
 */
import { mkdirSync, realpathSync, rmdirSync, statSync, utimesSync } from 'node:fs';

type Callback = (err: NodeJS.ErrnoException | null, result?: unknown) => void;

function answered<A extends unknown[]>(call: (...args: A) => unknown) {
  return (...args: [...A, Callback]): void => {
    const callback = args.pop() as Callback;
    let result: unknown;
    try {
      result = call(...(args as unknown as A));
    } catch (err) {
      process.nextTick(callback, err as NodeJS.ErrnoException);
      return;
    }
    process.nextTick(callback, null, result);
  };
}

export const lockFs = {
  mkdir: answered((path: string) => mkdirSync(path)),
  rmdir: answered((path: string) => rmdirSync(path)),
  stat: answered((path: string) => statSync(path)),
  utimes: answered((path: string, atime: Date, mtime: Date) => utimesSync(path, atime, mtime)),
  realpath: answered((path: string) => realpathSync(path)),
  /** Called at process exit to drop the locks still held. */
  rmdirSync,
};
