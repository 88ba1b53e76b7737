/** INFTY_WORKER_ACTIVITY_SLOTS and INFTY_WORKER_CACHED_RUNS (docs/interface.md §4) become worker options; bad values are exit 2. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { UsageError } from '../../src/errors';
import { tuningFromConfig } from '../../src/worker';

function usageError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('worker tuning from the environment', () => {
  it('leaves the defaults alone when unset', () => {
    expect(tuningFromConfig(loadConfig({}))).toEqual({});
  });

  it('passes the slots and the cache size to the worker', () => {
    expect(tuningFromConfig(loadConfig({ INFTY_WORKER_ACTIVITY_SLOTS: '250', INFTY_WORKER_CACHED_RUNS: '3000' }))).toEqual({
      maxConcurrentActivityTaskExecutions: 250,
      maxCachedWorkflows: 3000,
    });
    expect(tuningFromConfig(loadConfig({ INFTY_WORKER_CACHED_RUNS: '0' }))).toEqual({ maxCachedWorkflows: 0 });
  });

  it('refuses values that are not what the SDK takes, naming the variable', () => {
    expect(usageError({ INFTY_WORKER_ACTIVITY_SLOTS: '0' })).toMatch(/INFTY_WORKER_ACTIVITY_SLOTS must be a positive whole number, got "0"/);
    expect(usageError({ INFTY_WORKER_ACTIVITY_SLOTS: 'many' })).toMatch(/INFTY_WORKER_ACTIVITY_SLOTS/);
    expect(usageError({ INFTY_WORKER_CACHED_RUNS: '1' })).toMatch(
      /INFTY_WORKER_CACHED_RUNS must be 0 \(no workflow cache\) or a whole number of at least 2, got "1"/,
    );
    expect(usageError({ INFTY_WORKER_CACHED_RUNS: '-5' })).toMatch(/INFTY_WORKER_CACHED_RUNS/);
  });
});
