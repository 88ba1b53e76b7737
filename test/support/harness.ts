/** A worker on the suite's real Temporal server, wired to a scripted fake model server. */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { InftyClient } from '../../src/client';
import type { PriceTable } from '../../src/host/prices';
import { SdkLogger } from '../../src/host/sdkLogger';
import type { RunInputRaw } from '../../src/protocol/runInput';
import { createInftyWorker, type InftyWorker } from '../../src/worker';
import { type FakeModelServer, type Responder, startFakeModelServer } from './fakeModel';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new SdkLogger('WARN') });
  } catch {
    // already installed by another test file in this process
  }
}

export interface Harness {
  address: string;
  taskQueue: string;
  home: string;
  runsRoot: string;
  model: FakeModelServer;
  client: Client;
  infty: InftyClient;
  worker: InftyWorker;
  /** Starts a run and waits for its outcome. */
  run(input: Omit<RunInputRaw, 'runId'> & { runId?: string }): Promise<{ runId: string; outcome: Awaited<ReturnType<InftyClient['result']>> }>;
  close(): Promise<void>;
}

let counter = 0;
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export async function startHarness(opts: {
  responder: Responder;
  wireApi?: 'responses' | 'chat';
  stream?: boolean;
  /** Overrides of the worker's model endpoint (e.g. no API key and no base URL). */
  endpoint?: { baseURL?: string; apiKey?: string };
  /** The worker's INFTY_PRICES table (default: the package's table alone). */
  prices?: PriceTable;
}): Promise<Harness> {
  quietRuntime();
  const address = inject('temporalAddress');
  const taskQueue = uniqueId('tq');
  const home = mkdtempSync(join(tmpdir(), 'infty-home-'));
  const runsRoot = join(home, 'runs');
  const model = await startFakeModelServer({ responder: opts.responder });
  const nativeConnection = await NativeConnection.connect({ address });
  process.env.INFTY_WORKFLOW_BUNDLE = inject('workflowBundlePath');
  const worker = await createInftyWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    deps: {
      home,
      runsRoot,
      defaultModel: 'fake-model',
      endpoint: { baseURL: model.baseUrl, apiKey: 'test-key', wireApi: opts.wireApi ?? 'responses', stream: opts.stream ?? true, ...opts.endpoint },
      ...(opts.prices ? { prices: opts.prices } : {}),
    },
    tuning: { shutdownGraceTime: '1 second' },
  });
  const workerDone = worker.run();
  const infty = await InftyClient.connect({ address, namespace: 'default', taskQueue });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    address,
    taskQueue,
    home,
    runsRoot,
    model,
    client,
    infty,
    worker,
    async run(input) {
      const runId = input.runId ?? uniqueId('run');
      await infty.startRun({ sandbox: 'none', ...input, runId } as RunInputRaw);
      const outcome = await infty.result(runId);
      return { runId, outcome };
    },
    async close() {
      worker.shutdown();
      await workerDone;
      await nativeConnection.close();
      await infty.close();
      await connection.close();
      await model.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The environment of an `infty` CLI child talking to the harness's server, queue, disk and model. */
export function cliEnv(h: Harness): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: h.address,
    INFTY_TASK_QUEUE: h.taskQueue,
    INFTY_HOME: h.home,
    INFTY_RUNS_ROOT: h.runsRoot,
    OPENAI_BASE_URL: h.model.baseUrl,
    OPENAI_API_KEY: 'test-key',
  };
}

export interface HarnessInUse<R extends Responder> {
  readonly h: Harness;
  /** Answers the model requests from now on. */
  responder: R;
}

/**
 * Call inside a `describe`: one harness for its tests, started before them and closed after,
 * whose scripted model answers through the current `responder`.
 */
export function useHarness<R extends Responder = Responder>(opts: Omit<Parameters<typeof startHarness>[0], 'responder'> = {}): HarnessInUse<R> {
  let harness: Harness | undefined;
  const inUse = {
    get h(): Harness {
      if (!harness) throw new Error('the harness is not started (useHarness outside describe?)');
      return harness;
    },
    responder: (() => {
      throw new Error('no responder set');
    }) as unknown as R,
  };
  beforeAll(async () => {
    harness = await startHarness({ ...opts, responder: (req) => inUse.responder(req) });
  });
  afterAll(async () => harness?.close());
  return inUse;
}

/**
 * Answers each model request with the script of the request's run (its x-infty-run-id). A request
 * of a run without a script fails, naming the run: the fake model answers 500 with this message.
 */
export function perRunResponder(scripts: ReadonlyMap<string, Responder>): Responder {
  return (req) => {
    const script = scripts.get(req.runId ?? '');
    if (!script)
      throw new Error(`no model script for run ${req.runId ?? '(none: the request has no x-infty-run-id)'}; set scripts.set(runId, …) before the run starts`);
    return script(req);
  };
}

export interface PerRunHarnessInUse {
  readonly h: Harness;
  /** `cliEnv(h)`: the environment of an `infty` CLI child using this harness. */
  readonly env: Record<string, string>;
  /** Each run's model script, by run id. */
  readonly scripts: Map<string, Responder>;
}

/** Call inside a `describe`: `useHarness` whose scripted model answers each run with its own script (see `perRunResponder`). */
export function usePerRunHarness(opts: Omit<Parameters<typeof startHarness>[0], 'responder'> = {}): PerRunHarnessInUse {
  const scripts = new Map<string, Responder>();
  const inUse = useHarness(opts);
  inUse.responder = perRunResponder(scripts);
  return {
    get h() {
      return inUse.h;
    },
    get env() {
      return cliEnv(inUse.h);
    },
    scripts,
  };
}
