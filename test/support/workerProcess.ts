/**
 * `infty worker` (bin/infty.js → dist) as a child process that tests can SIGKILL, for durability
 * tests. Only processes started here are ever signalled, always by their own PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'infty.js');

export interface WorkerEnv {
  TEMPORAL_ADDRESS: string;
  INFTY_TASK_QUEUE: string;
  INFTY_HOME: string;
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY?: string;
  /** Anything else (INFTY_WORKFLOW_BUNDLE, INFTY_WIRE_API, ...). */
  [name: string]: string | undefined;
}

/** The environment a worker or CLI child gets: only what it needs, plus PATH and HOME. */
export function childEnv(env: WorkerEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OPENAI_API_KEY: 'test',
    ...(process.env.TEMPORAL_CLI ? { TEMPORAL_CLI: process.env.TEMPORAL_CLI } : {}),
    ...env,
  };
}

let pinnedBundle: string | undefined;
/**
 * A private copy of dist/workflow-bundle.js, so every worker a test starts (including the ones
 * started after kills) runs the same workflow code even if dist/ is rebuilt meanwhile.
 */
export function pinnedWorkflowBundle(): string {
  if (pinnedBundle && existsSync(pinnedBundle)) return pinnedBundle;
  const src = join(ROOT, 'dist', 'workflow-bundle.js');
  if (!existsSync(src)) throw new Error(`${src} is missing: run \`npm run build\` before these tests`);
  const dir = mkdtempSync(join(tmpdir(), 'infty-bundle-'));
  pinnedBundle = join(dir, 'workflow-bundle.js');
  copyFileSync(src, pinnedBundle);
  return pinnedBundle;
}

export function removePinnedWorkflowBundle(): void {
  if (pinnedBundle) rmSync(dirname(pinnedBundle), { recursive: true, force: true });
  pinnedBundle = undefined;
}

export interface WorkerProcess {
  pid: number;
  /** Date.now() when the process was spawned. */
  startedAt: number;
  /** Resolves once the worker says it is polling (rejects if it exits first or takes > 30 s). */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** stdout + stderr so far (for failure messages). */
  output(): string;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

const started = new Set<WorkerProcess>();

export function spawnWorker(env: WorkerEnv): WorkerProcess {
  const startedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker'], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      out += `\nspawn error: ${err.message}`;
      exitedFlag = true;
      resolve({ code: null, signal: null });
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${child.pid} not ready after 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker polling task queue')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker ${child.pid} exited (code ${code}, signal ${signal}) before it was ready:\n${out}`));
    });
  });
  ready.catch(() => undefined);
  const handle: WorkerProcess = {
    pid: child.pid ?? -1,
    startedAt,
    ready,
    exited,
    alive: () => !exitedFlag,
    output: () => out,
    async kill() {
      if (!exitedFlag && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
      started.delete(handle);
    },
    async stop(graceMs = 10_000) {
      if (!exitedFlag && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const timer = setTimeout(() => {
        if (!exitedFlag && child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
      started.delete(handle);
    },
  };
  started.add(handle);
  return handle;
}

/** SIGKILLs every worker this module started that is still running (afterAll). */
export async function killAllStartedWorkers(): Promise<void> {
  await Promise.all([...started].map((w) => w.kill()));
}

/** The workers one test starts, so concurrent tests clean up only their own. */
export class WorkerGroup {
  private readonly members = new Set<WorkerProcess>();

  spawn(env: WorkerEnv): WorkerProcess {
    const w = spawnWorker(env);
    this.members.add(w);
    return w;
  }

  /** Spawns a worker and waits until it polls. */
  async start(env: WorkerEnv): Promise<WorkerProcess> {
    const w = this.spawn(env);
    await w.ready;
    return w;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.members].map((w) => w.kill()));
    this.members.clear();
  }
}

/** The environment of an `infty worker` child on `address`, with the scripted model at `modelBaseUrl`. */
export function workerEnv(o: { address: string; taskQueue: string; home: string; modelBaseUrl: string }, extra: Record<string, string> = {}): WorkerEnv {
  return {
    TEMPORAL_ADDRESS: o.address,
    INFTY_TASK_QUEUE: o.taskQueue,
    INFTY_HOME: o.home,
    OPENAI_BASE_URL: o.modelBaseUrl,
    OPENAI_API_KEY: 'test',
    INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle(),
    ...extra,
  };
}

/** The teardown of a file that ran worker processes against one scripted model in one home (afterAll). */
export async function endWorkerProcessTests(opts: { workers: WorkerGroup; model: { close(): Promise<void> } | undefined; home: string }): Promise<void> {
  await opts.workers.killAll();
  await killAllStartedWorkers();
  await opts.model?.close();
  removePinnedWorkflowBundle();
  rmSync(opts.home, { recursive: true, force: true });
}
