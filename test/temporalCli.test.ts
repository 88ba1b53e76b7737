import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalCli, projectRoot, requireTemporalCli } from '../src/temporalCli';

describe('temporal CLI lookup', () => {
  it('finds the project root', () => {
    const root = projectRoot();
    expect(existsSync(path.join(root, 'package.json'))).toBe(true);
    expect(existsSync(path.join(root, 'scripts', 'setup-temporal.js'))).toBe(true);
  });

  it('finds a working temporal binary', async () => {
    const found = await findTemporalCli();
    expect(found, 'run `npm run setup:temporal` first').toBeDefined();
    expect(['env', 'path', 'local']).toContain(found!.route);
    expect(found!.version).toMatch(/^\d+\.\d+\.\d+/);
    const out = execFileSync(found!.path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(out).toMatch(/temporal version \d+\.\d+\.\d+/);
    expect(await requireTemporalCli()).toBe(found!.path);
  });

  it('honours TEMPORAL_CLI first, and says how to install when nothing works', async () => {
    const found = await findTemporalCli();
    const saved = { TEMPORAL_CLI: process.env.TEMPORAL_CLI, PATH: process.env.PATH };
    try {
      process.env.TEMPORAL_CLI = found!.path;
      expect(await findTemporalCli()).toMatchObject({ path: found!.path, route: 'env' });

      // A broken TEMPORAL_CLI falls through to the next routes (PATH, then the project-local install).
      process.env.TEMPORAL_CLI = path.join(projectRoot(), 'no-such-temporal');
      const fallback = await findTemporalCli();
      if (fallback === undefined) {
        await expect(requireTemporalCli()).rejects.toThrow(/npm run setup:temporal.*TEMPORAL_CLI/s);
      } else {
        expect(fallback.route).not.toBe('env');
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
