/**
 * Temporal's refusals are told apart from a server that cannot be reached (docs/interface.md §3),
 * through the real CLI against the suite's dev server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../src/server';
import { runCli } from './support/cli';
import { uniqueId } from './support/harness';

const home = mkdtempSync(join(tmpdir(), 'infty-refusals-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    INFTY_TASK_QUEUE: uniqueId('tq'),
    INFTY_HOME: home,
    // Nothing here gets as far as a model call; an endpoint that refuses at once keeps it so.
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    OPENAI_API_KEY: 'test',
    ...extra,
  };
}

/** No stack trace, no raw gRPC status, no "unexpected error": one line of infty's own. */
function expectOneClearLine(stderr: string): void {
  expect(stderr).not.toMatch(/unexpected error|\n\s+at |Status \{|MetadataMap|tonic::/);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

describe('errors say what they are', () => {
  it('a namespace that does not exist: worker, create and list say so and how to create it (exit 2)', { timeout: 60_000 }, async () => {
    const namespace = uniqueId('no-such-namespace');
    const address = inject('temporalAddress');
    for (const args of [['worker'], ['create', '--objective', 'x', '--detach', '--sandbox', 'none'], ['list'], ['show', 'run-x']]) {
      const r = await runCli(args, env({ TEMPORAL_NAMESPACE: namespace }), 30_000);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(
        `infty: namespace ${namespace} does not exist on Temporal at ${address}; create it with \`temporal operator namespace create --namespace ${namespace}\` (or set TEMPORAL_NAMESPACE)\n`,
      );
      expectOneClearLine(r.stderr);
    }
  });

  it('a request Temporal refuses is exit 2 with its reason, not "unreachable"', async () => {
    // Temporal refuses task queue names longer than 1000 characters (INVALID_ARGUMENT).
    const r = await runCli(['create', '--objective', 'x', '--detach', '--sandbox', 'none'], env({ INFTY_TASK_QUEUE: 'q'.repeat(1100) }), 30_000);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^infty: Temporal at \S+ refused .*\(namespace default\): taskQueue length exceeds limit \(INVALID_ARGUMENT\)\n$/);
    expect(r.stderr).not.toMatch(/reach|server is up/);
    expectOneClearLine(r.stderr);

    const where = await runCli(['list', '--where', 'InftyGoalStatus ==='], env(), 30_000);
    expect(where.code, where.stderr).toBe(2);
    expect(where.stderr).toMatch(/^infty: the server refused the query "InftyGoalStatus ===": .*syntax error/);
    expect(where.stderr).not.toMatch(/reach|server is up/);
  });

  it('an address where nothing answers is exit 3 "cannot reach", for the worker too', async () => {
    const port = await freePort();
    for (const args of [['worker'], ['list']]) {
      const r = await runCli(args, env({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }), 30_000);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`infty: cannot reach Temporal at 127.0.0.1:${port} (`);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    }
  });
});
