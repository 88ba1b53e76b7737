/**
 * The embedded Temporal dev server: runs `temporal server start-dev` as a child process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { findProgram } from './activities/tools/which';
import { type PendingWait, searchAttributeProbe, whileSearchAttributesPending } from './host/searchAttributeWait';
import { GOAL_STATUS_KEY, PHASE_KEY, TOKENS_USED_KEY } from './protocol/names';
import { requireTemporalCli } from './temporalCli';

export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Int'> = {
  [GOAL_STATUS_KEY.name]: 'Keyword',
  [PHASE_KEY.name]: 'Keyword',
  [TOKENS_USED_KEY.name]: 'Int',
};

/** temporal.api.enums.v1.IndexedValueType values for the attribute types we use. */
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3 } as const;

export interface DevServerOptions {
  /** gRPC frontend port (default 7233). */
  port?: number;
  /** Web UI port (default port + 1000). */
  uiPort?: number;
  /** Persistent SQLite file; in-memory when undefined. */
  dbFile?: string;
  /** Address to bind (default 127.0.0.1). */
  ip?: string;
  /** Namespace to create and register search attributes in (default 'default'). */
  namespace?: string;
  /** Disable the Web UI. */
  headless?: boolean;
  /** Receives the server's output, line by line. */
  log?: (line: string) => void;
  /** Path of the `temporal` binary (default: requireTemporalCli()). */
  temporalCli?: string;
  /** Dynamic config values, merged over DEFAULT_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServerHandle {
  /** host:port of the gRPC frontend. */
  address: string;
  uiUrl?: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const STDERR_TAIL_LINES = 20;
const STDERR_DRAIN_MS = 1_000;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when nothing can bind host:port right now (something listens there). */
function isPortInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/** A real gRPC round trip (GetSystemInfo) against the frontend at `address`; false on any failure. */
export async function isTemporalReachable(address: string, timeoutMs = 2_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

function isAlreadyExists(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return e?.code === 6 /* grpc ALREADY_EXISTS */ || /already exists/i.test(String(e?.message ?? err));
}

export interface EnsureSearchAttributesOptions extends Omit<PendingWait, 'namespace'> {
  /** Refused while the attributes are not in effect (default: a visibility query naming them, searchAttributeProbe). */
  probe?: () => Promise<void>;
}

/**
 * Registers the SEARCH_ATTRIBUTES missing from `namespace` (lists first; "already exists" is fine),
 * then waits until Temporal applies them (host/searchAttributeWait.ts): a start that sets them is
 * refused for a few seconds after registration otherwise. Throws the probe's refusal when they are
 * still not in effect after the wait.
 */
export async function ensureSearchAttributes(
  connection: Pick<Connection, 'operatorService' | 'workflowService'>,
  namespace: string,
  options: EnsureSearchAttributesOptions = {},
): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length > 0) {
    const searchAttributes = Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]));
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  // Also when they were listed already: registered a moment ago by someone else, they may not be in effect yet.
  await whileSearchAttributesPending(options.probe ?? searchAttributeProbe(connection.workflowService, namespace), { ...options, namespace });
}

/**
 * The dev server reads its transfer queue at most 20 times a second by default, which adds
 * ~35 ms to every workflow task of a run; raising it made turns ~1.2-1.5x faster (bench/).
 */
export const DEFAULT_DYNAMIC_CONFIG: Record<string, string | number | boolean> = { 'history.transferProcessorMaxPollRPS': 1000 };

function startDevArgs(o: {
  ip: string;
  port: number;
  uiPort: number;
  dbFile?: string;
  namespace: string;
  headless: boolean;
  dynamicConfig: Record<string, string | number | boolean>;
}): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip, '--port', String(o.port)];
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  args.push('--namespace', o.namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  args.push('--log-level', 'warn');
  for (const [key, value] of Object.entries(o.dynamicConfig)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  return args;
}

/** Splits a stream into lines and hands each to `onLine`. */
function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split(/\r?\n/);
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line);
  });
  stream.on('end', () => {
    if (buffered.trim()) onLine(buffered);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts `temporal server start-dev`, waits until its frontend answers gRPC and the Infty search
 * attributes exist, and returns a handle to stop it.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServerHandle> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? port + 1000;
  const namespace = opts.namespace ?? 'default';
  const headless = opts.headless ?? false;
  const dbFile = opts.dbFile ? path.resolve(opts.dbFile) : undefined;
  const address = `${ip}:${port}`;

  if (await isPortInUse(port, ip)) {
    throw new Error(`port ${port} on ${ip} is already in use (is a Temporal server already running? use it with TEMPORAL_ADDRESS=${address} or pick --port)`);
  }
  if (!headless && (await isPortInUse(uiPort, ip))) {
    throw new Error(`UI port ${uiPort} on ${ip} is already in use (pick --ui-port, or run headless)`);
  }
  if (dbFile) mkdirSync(path.dirname(dbFile), { recursive: true });
  const cli = opts.temporalCli ?? (await requireTemporalCli());

  const args = startDevArgs({ ip, port, uiPort, dbFile, namespace, headless, dynamicConfig: { ...DEFAULT_DYNAMIC_CONFIG, ...opts.dynamicConfig } });
  // Its own session: the terminal's Ctrl+C (or a closed terminal's SIGHUP) reaches only the CLI,
  // which stops the server itself after its worker (docs/interface.md §1 "Signals"). With
  // setpriv, the kernel sends it SIGTERM if the CLI dies without stopping it (even by SIGKILL).
  const setpriv = findProgram('setpriv', process.env.PATH, '/');
  const [file, argv] = 'path' in setpriv ? [setpriv.path, ['--pdeathsig', 'TERM', '--', cli, ...args]] : [cli, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: true });
  const stderrTail: string[] = [];
  forEachLine(child.stdout!, (line) => opts.log?.(line));
  forEachLine(child.stderr!, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    opts.log?.(line);
  });
  // A process's exit can be seen before the last of its stderr is read: an early exit's message
  // waits for the stream's end (briefly: a process it started may hold the pipe).
  const stderrRead = new Promise<void>((resolve) => child.stderr!.once('close', resolve));
  const fullStderr = async () => {
    await Promise.race([stderrRead, sleep(STDERR_DRAIN_MS)]);
    return stderrTail;
  };

  // Don't leave an orphaned server behind if this process exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let hasExited = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      stderrTail.push(`spawn ${cli}: ${err.message}`);
      hasExited = true;
      resolve(null);
    });
    child.once('exit', (code) => {
      hasExited = true;
      resolve(code);
    });
  }).then((code) => {
    process.removeListener('exit', killOnExit);
    return code;
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = STOP_GRACE_MS): Promise<void> => {
    stopping ??= (async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  try {
    await waitUntilReady(address, exited, () => hasExited, fullStderr);
    const connection = await Connection.connect({ address, connectTimeout: 5_000 });
    try {
      await ensureSearchAttributes(connection, namespace);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    uiUrl: headless ? undefined : `http://${ip}:${uiPort}`,
    pid: child.pid ?? -1,
    stop,
    exited,
  };
}

async function waitUntilReady(address: string, exited: Promise<number | null>, hasExited: () => boolean, stderrTail: () => Promise<string[]>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const earlyExit = async (code: number | null) =>
    new Error(`temporal server start-dev exited early (code ${code}) before ${address} answered:\n${(await stderrTail()).join('\n') || '(no output)'}`);
  while (Date.now() < deadline) {
    const outcome = await Promise.race([isTemporalReachable(address, 1_000).then((ok) => (ok ? 'ready' : 'not yet')), exited.then((code) => ({ code }))]);
    if (outcome === 'ready') return;
    if (typeof outcome === 'object' || hasExited()) throw await earlyExit(typeof outcome === 'object' ? outcome.code : await exited);
    await sleep(250);
  }
  throw new Error(`temporal server start-dev did not answer on ${address} within ${READY_TIMEOUT_MS / 1000}s:\n${(await stderrTail()).join('\n')}`);
}
