import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { type DevServerHandle, ensureSearchAttributes, freePort, isTemporalReachable, SEARCH_ATTRIBUTES, startDevServer } from '../src/server';

describe('embedded Temporal dev server', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'infty-devserver-'));
  const dbFile = path.join(tmp, 'nested', 'dir', 'temporal.db');
  const started: DevServerHandle[] = [];

  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('starts, registers search attributes, refuses a busy port, stops, and restarts on the same db', async () => {
    const port = await freePort();
    const logs: string[] = [];
    const server = await startDevServer({ port, dbFile, headless: true, log: (l) => logs.push(l) });
    started.push(server);
    expect(server.address).toBe(`127.0.0.1:${port}`);
    expect(server.uiUrl).toBeUndefined();
    expect(server.pid).toBeGreaterThan(0);
    expect(existsSync(dbFile)).toBe(true);
    expect(await isTemporalReachable(server.address)).toBe(true);

    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(Object.keys(customAttributes ?? {})).toContain(name);
      expect(customAttributes!.InftyGoalStatus).toBe(2); // KEYWORD
      expect(customAttributes!.InftyPhase).toBe(2); // KEYWORD
      expect(customAttributes!.InftyTokensUsed).toBe(3); // INT
      await ensureSearchAttributes(connection, 'default'); // idempotent
    } finally {
      await connection.close();
    }

    await expect(startDevServer({ port, headless: true })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is already in use (is a Temporal server already running? use it with TEMPORAL_ADDRESS=127.0.0.1:${port} or pick --port)`,
    );

    await server.stop();
    await server.stop(); // idempotent
    expect(await server.exited).not.toBeUndefined();
    expect(await isTemporalReachable(server.address, 500)).toBe(false);

    const again = await startDevServer({ port, dbFile, headless: true });
    started.push(again);
    expect(await isTemporalReachable(again.address)).toBe(true);
    await again.stop();
    expect(await isTemporalReachable(again.address, 500)).toBe(false);
  });

  it('a CLI that exits at once: the error carries what it wrote to stderr, even when that is read after the exit', async () => {
    // The exit can be seen before the last of stderr is read; here the line comes 300 ms after the
    // exit (a process it started still holds the pipe). The message must not say "(no output)".
    const cli = path.join(tmp, 'failing-temporal');
    writeFileSync(cli, '#!/bin/sh\n(sleep 0.3; echo "Error: can\'t set frontend port: bind: address already in use" >&2) &\nexit 1\n');
    chmodSync(cli, 0o755);
    const err = await startDevServer({ port: await freePort(), headless: true, temporalCli: cli }).then(
      () => new Error('started'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/exited early \(code 1\)/);
    expect(err.message).toContain('bind: address already in use');
  });

  it('isTemporalReachable is false for a port nothing listens on', async () => {
    expect(await isTemporalReachable(`127.0.0.1:${await freePort()}`, 500)).toBe(false);
  });

  it('serves the Web UI when not headless', async () => {
    const port = await freePort();
    const uiPort = await freePort();
    const server = await startDevServer({ port, uiPort });
    started.push(server);
    expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    const res = await fetch(server.uiUrl!, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBeLessThan(500);
    await server.stop();
  });
});
