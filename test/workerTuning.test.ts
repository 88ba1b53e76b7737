/**
 * The worker's activity slots (docs/architecture.md "Worker tuning"): 1000 on both of its queues by
 * default, and INFTY_WORKER_ACTIVITY_SLOTS / INFTY_WORKER_CACHED_RUNS reach the SDK workers the way
 * `infty worker` builds them (tuningFromConfig), against the real dev server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createInftyWorker, DEFAULT_ACTIVITY_SLOTS, type InftyWorker, tuningFromConfig } from '../src/worker';
import { uniqueId } from './support/harness';

describe('worker tuning', () => {
  let connection: NativeConnection;
  const home = mkdtempSync(join(tmpdir(), 'infty-tuning-'));

  beforeAll(async () => {
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    process.env.INFTY_WORKFLOW_BUNDLE = inject('workflowBundlePath');
  });
  afterAll(async () => {
    await connection?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const create = (env: NodeJS.ProcessEnv): Promise<InftyWorker> =>
    createInftyWorker({
      connection,
      namespace: 'default',
      taskQueue: uniqueId('tq-tuning'),
      deps: {
        home,
        runsRoot: join(home, 'runs'),
        defaultModel: 'fake-model',
        endpoint: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k', wireApi: 'responses', stream: true },
      },
      storage: { mode: 'local', workerId: 'tuning' },
      tuning: tuningFromConfig(loadConfig(env)),
    });
  /** The options each SDK worker was built with; the worker is then run and shut down, which releases the connection. */
  const settings = async (w: InftyWorker) => {
    const out = w.workers.map((sdk) => {
      const o = sdk.options as unknown as { tuner: { activityTaskSlotSupplier: { numSlots: number } }; maxCachedWorkflows: number };
      return { slots: o.tuner.activityTaskSlotSupplier.numSlots, cache: o.maxCachedWorkflows };
    });
    await w.runUntil(Promise.resolve());
    return out;
  };

  it('gives both queues 1000 activity slots by default, and the environment overrides slots and cache', async () => {
    expect(DEFAULT_ACTIVITY_SLOTS).toBe(1000);
    const plain = await settings(await create({}));
    expect(plain.map((s) => s.slots)).toEqual([1000, 1000]);
    const tuned = await settings(await create({ INFTY_WORKER_ACTIVITY_SLOTS: '7', INFTY_WORKER_CACHED_RUNS: '42' }));
    expect(tuned).toEqual([
      { slots: 7, cache: 42 },
      { slots: 7, cache: 42 },
    ]);
  });
});
