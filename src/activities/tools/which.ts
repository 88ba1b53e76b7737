/** Program lookup the way execvp does it (PATH search unless the name contains a slash). */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';

export type ProgramLookup = { path: string } | { errno: 'ENOENT' | 'EACCES' };

function check(candidate: string): ProgramLookup {
  try {
    if (!statSync(candidate).isFile()) return { errno: 'EACCES' };
    accessSync(candidate, fsConstants.X_OK);
    return { path: candidate };
  } catch (e) {
    return { errno: (e as NodeJS.ErrnoException).code === 'EACCES' ? 'EACCES' : 'ENOENT' };
  }
}

export function findProgram(name: string, pathVar: string | undefined, cwd: string): ProgramLookup {
  if (name.includes('/')) return check(path.resolve(cwd, name));
  let denied = false;
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const found = check(path.resolve(cwd, dir, name));
    if ('path' in found) return found;
    if (found.errno === 'EACCES') denied = true;
  }
  return { errno: denied ? 'EACCES' : 'ENOENT' };
}
