/**
 * A private PostgreSQL server for the cluster test, from Debian's postgresql package: initdb in a
 * temporary directory, then pg_ctl on a free loopback port. PostgreSQL refuses to run as root, so
 * under root both run as the `postgres` user (`nobody` where there is none), which owns the directory.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/server';

export interface PostgresInstance {
  port: number;
  user: string;
  binDir: string;
  stop(): void;
}

/** The newest /usr/lib/postgresql/N/bin that has initdb (Debian puts the server there, not on PATH). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(
      'PostgreSQL server programs not found under /usr/lib/postgresql/*/bin: install Debian\'s "postgresql" package (apt-get install postgresql)',
    );
  return join(base, versions[0]!, 'bin');
}

/** uid and gid of a user from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

function runAsIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = userIds('postgres') ?? userIds('nobody');
  if (!ids) throw new Error('running as root and no "postgres" or "nobody" user to run PostgreSQL as');
  return ids;
}

export async function startPostgres(dir: string, user: string, password: string): Promise<PostgresInstance> {
  const binDir = postgresBinDir();
  const ids = runAsIds();
  const home = join(dir, 'postgres');
  mkdirSync(home, { recursive: true });
  const pwfile = join(home, 'password');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(home, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  const data = join(home, 'data');
  const run = (program: string, args: string[]) => {
    const r = spawnSync(join(binDir, program), args, {
      encoding: 'utf8',
      cwd: home,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      timeout: 120_000,
      ...(ids ?? {}),
    });
    if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    user,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-instructions',
    '--no-sync',
  ]);
  const port = await freePort();
  // fsync off: this server is never killed, and the test measures Temporal, not the disk.
  const options = `-c port=${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${home} -c fsync=off`;
  run('pg_ctl', ['-D', data, '-l', join(home, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
  return {
    port,
    user,
    binDir,
    stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
  };
}
