/**
 * Production Temporal for the cluster test (docs/cluster-test.md), set up as docker-compose.yml
 * sets it up, with processes instead of containers:
 *  - `postgresql`: a private PostgreSQL server (./postgres.ts);
 *  - `temporal-admin-tools`: the service's own entrypoint, command (deploy/temporal/scripts/
 *    setup-postgres.sh) and environment, with temporal-sql-tool and the schema from
 *    scripts/cluster/build-server.sh;
 *  - `temporal`: the server image's entrypoint from the go.temporal.io/server module (which starts
 *    `temporal-server start`; the server renders its config from the environment with its embedded
 *    template), the service's environment and its dynamic config mounted where the service mounts it;
 *  - `temporal-create-namespace`: the service's own command (deploy/temporal/scripts/create-namespace.sh).
 * Only the networking differs, as containers would provide it: the database is 127.0.0.1 on a free
 * port instead of the host `postgresql`, the server binds 127.0.0.1 (not 0.0.0.0) on free ports.
 *
 * The server runs detached with its pid in a file, so a test file (another process than the global
 * setup that started it) can SIGKILL and restart it (killServer, startServer).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Connection } from '@temporalio/client';
import { requireTemporalCli } from '../../src/temporalCli';
import { sleep } from '../support/wait';
import { type ComposeService, composeService, hostPathOf, ROOT } from './compose';
import { startPostgres } from './postgres';

/** What a test file needs to reach and control the cluster (JSON: it crosses processes). */
export interface ClusterInfo {
  dir: string;
  address: string;
  namespace: string;
}

interface ServerSpec {
  entrypoint: string;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  pidFile: string;
}

/** The image's WORKDIR: DYNAMIC_CONFIG_FILE_PATH and the service's mounts are relative to it. */
const IMAGE_WORKDIR = '/etc/temporal';

/** The ports the server's config template reads from the environment (all of them, so none clashes). */
const SERVER_PORTS = [
  'FRONTEND_GRPC_PORT',
  'FRONTEND_HTTP_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_GRPC_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_GRPC_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_GRPC_PORT',
  'WORKER_MEMBERSHIP_PORT',
];

/**
 * A free loopback port below 32768, not in `taken`. The server records its ports in the
 * cluster_membership table, whose rpc_port column is a SMALLINT: a port from the kernel's
 * ephemeral range (32768 and up) stops the server at its start ("out of range for type smallint").
 */
async function freePortBelow32768(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port) && (await canBind(port))) return port;
  }
  throw new Error('no free port between 20000 and 32000 on 127.0.0.1');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Builds (once per machine and version) or finds the server binaries; returns their directory. */
export function buildServer(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'cluster', 'build-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 40 * 60_000,
  });
  if (r.status !== 0) throw new Error(`scripts/cluster/build-server.sh failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r.stdout.trim().split('\n').pop()!;
}

function tail(file: string, lines = 60): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

/** Runs a one-shot service (entrypoint + command) with its container paths mapped to this machine. */
function runJob(service: ComposeService, env: Record<string, string>, path: string): string {
  const argv = [...service.entrypoint, ...service.command].map((a) =>
    service.binds.some((b) => a.startsWith(`${b.container}/`)) ? hostPathOf(service, a) : a,
  );
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: path, ...env }, timeout: 180_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${service.name} (${argv.join(' ')}) failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`);
  return output;
}

function specOf(info: ClusterInfo): ServerSpec {
  return JSON.parse(readFileSync(join(info.dir, 'server.json'), 'utf8')) as ServerSpec;
}

/**
 * Starts the server from its spec (detached; its pid in the spec's pid file) and waits until its
 * frontend answers, and serves the namespace unless this is the first start (the namespace job creates it).
 */
export async function startServer(info: ClusterInfo, first = false): Promise<void> {
  const spec = specOf(info);
  const log = openSync(spec.logFile, 'a');
  const child = spawn('bash', [spec.entrypoint], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(spec.pidFile, String(child.pid));
  await waitServing(info, spec, first ? undefined : info.namespace, 120_000);
}

/** Polls until the frontend answers, for `namespace` if given (fails once the server process is gone). */
async function waitServing(info: ClusterInfo, spec: ServerSpec, namespace: string | undefined, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive(Number(readFileSync(spec.pidFile, 'utf8')))) throw new Error(`the Temporal server exited; its log:\n${tail(spec.logFile)}`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address: info.address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      if (namespace) await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(250);
  }
  throw new Error(
    `the Temporal server did not answer${namespace ? ` for namespace ${namespace}` : ''} within ${ms / 1000} s (${last}); its log:\n${tail(spec.logFile)}`,
  );
}

/** True while `pid` runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Sends `signal` to the server this cluster started and waits until it is gone (SIGKILL after `graceMs`). */
export async function killServer(info: ClusterInfo, signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<void> {
  const spec = specOf(info);
  if (!existsSync(spec.pidFile)) return;
  const pid = Number(readFileSync(spec.pidFile, 'utf8'));
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await sleep(50);
  }
}

/** Runs the compose's `temporal-create-namespace` job for `namespace`; returns what it printed. */
export function runNamespaceJob(info: ClusterInfo, namespace: string): string {
  const job = composeService('temporal-create-namespace');
  return runJob(job, { ...job.environment, TEMPORAL_ADDRESS: info.address, TEMPORAL_NAMESPACE: namespace }, specOf(info).env.PATH!);
}

export interface Cluster {
  info: ClusterInfo;
  /** Seconds each step took: build, postgres, schema, server, namespace. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string) => {
    timings[name] = (Date.now() - t) / 1000;
    t = Date.now();
  };
  const buildDir = buildServer();
  lap('build');

  const dir = mkdtempSync(join(tmpdir(), 'infty-cluster-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as another user under root and keeps its files below
  const binDir = join(dir, 'bin');
  mkdirSync(binDir);
  // What the admin-tools and server images have on PATH: the server, the SQL tool and the `temporal` CLI.
  symlinkSync(join(buildDir, 'bin', 'temporal-server'), join(binDir, 'temporal-server'));
  symlinkSync(join(buildDir, 'bin', 'temporal-sql-tool'), join(binDir, 'temporal-sql-tool'));
  symlinkSync(await requireTemporalCli(), join(binDir, 'temporal'));
  const path = `${binDir}:${process.env.PATH}`;

  const db = composeService('postgresql').environment;
  const pg = await startPostgres(dir, db.POSTGRES_USER!, db.POSTGRES_PASSWORD!);
  const stops: (() => unknown)[] = [() => pg.stop()];
  const database = { POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(pg.port) };
  lap('postgres');

  try {
    const admin = composeService('temporal-admin-tools');
    // The schema files the admin-tools image ships in /etc/temporal/schema come from the module.
    runJob(admin, { ...admin.environment, ...database, SCHEMA_DIR: join(buildDir, 'schema', 'postgresql', 'v12') }, path);
    lap('schema');

    const server = composeService('temporal');
    const workdir = join(dir, 'etc-temporal');
    mkdirSync(workdir);
    for (const b of server.binds) {
      const rel = relative(IMAGE_WORKDIR, b.container);
      if (rel.startsWith('..'))
        throw new Error(`docker-compose.yml mounts ${b.container} into the server outside ${IMAGE_WORKDIR}; teach test/cluster/cluster.ts about it`);
      mkdirSync(dirname(join(workdir, rel)), { recursive: true });
      symlinkSync(b.host, join(workdir, rel));
    }
    const ports: Record<string, string> = {};
    const taken = new Set<number>();
    for (const name of SERVER_PORTS) {
      const p = await freePortBelow32768(taken);
      taken.add(p);
      ports[name] = String(p);
    }
    const info: ClusterInfo = { dir, address: `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`, namespace: '' };
    info.namespace = composeService('temporal-create-namespace').environment.TEMPORAL_NAMESPACE!;
    const spec: ServerSpec = {
      entrypoint: join(buildDir, 'entrypoint.sh'),
      cwd: workdir,
      env: { PATH: path, ...server.environment, ...database, BIND_ON_IP: '127.0.0.1', ...ports },
      logFile: join(dir, 'temporal.log'),
      pidFile: join(dir, 'temporal.pid'),
    };
    writeFileSync(join(dir, 'server.json'), JSON.stringify(spec, null, 2));
    stops.unshift(() => killServer(info, 'SIGTERM'));
    await startServer(info, true);
    // The server refuses to start on a dynamic config it cannot read or validate, and logs each load.
    if (!readFileSync(spec.logFile, 'utf8').includes('"Updated dynamic config"'))
      throw new Error(`the server did not log loading its dynamic config (${spec.env.DYNAMIC_CONFIG_FILE_PATH}); its log:\n${tail(spec.logFile)}`);
    lap('server');

    runNamespaceJob(info, info.namespace);
    lap('namespace');

    return {
      info,
      timings,
      async stop() {
        for (const s of stops) await s();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const s of stops) await Promise.resolve(s()).catch(() => undefined);
    // Kept for a look at the logs (temporal.log, postgres/postgres.log).
    (err as Error).message += `\n(the cluster's directory, with its logs, is kept: ${dir})`;
    throw err;
  }
}
