/**
 * The packed npm package works as a library from another project: `npm pack` of this checkout
 * (its current dist/, so `npm run build` first: `npm test` does), unpacked into a temporary
 * project, used there with require, import and TypeScript, against the suite's dev server.
 *
 * The package is unpacked the way npm installs it (the tarball's package/ becomes
 * node_modules/infty-temporal) and its dependencies are linked one by one from this checkout's
 * node_modules: `npm install` of the tarball needs the registry for the dependencies' metadata,
 * and pointed at a linked node_modules it prunes that tree, i.e. this checkout's.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const NODE = process.execPath;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface PackedFile {
  path: string;
}

/** Every file below dir (relative paths). */
function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

describe('the npm package', () => {
  let tmp: string;
  let consumer: string;
  let installed: string;
  let packed: string[];

  beforeAll(async () => {
    for (const built of ['dist/src/client.js', 'dist/src/client.d.ts', 'dist/workflow-bundle.js']) {
      if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
    }
    tmp = mkdtempSync(join(tmpdir(), 'infty-package-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; files: PackedFile[] }>;
    packed = info!.files.map((f) => f.path);

    consumer = join(tmp, 'consumer');
    installed = join(consumer, 'node_modules', 'infty-temporal');
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'infty-consumer', version: '1.0.0', private: true }));
    await run('tar', ['-xzf', join(tmp, info!.filename), '-C', installed, '--strip-components=1'], { timeout: 30_000 });
    const { dependencies } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(dependencies)) {
      const link = join(consumer, 'node_modules', dep);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), link, 'dir');
    }
  }, 90_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('publishes the built product and no benchmark, test or source code', () => {
    for (const file of [
      'package.json',
      'bin/infty.js',
      'dist/src/client.js',
      'dist/src/client.d.ts',
      'dist/src/cli.js',
      'dist/src/worker.js',
      'dist/src/demo/demoModel.js',
      'dist/workflow-bundle.js',
      'prompts/solver.md',
      'scripts/setup-temporal.js',
      'scripts/temporal-cli.js',
    ]) {
      expect(packed).toContain(file);
    }
    const unwanted = packed.filter((p) => /^(src|test|bench)\//.test(p) || /^dist\/(bench|test)\//.test(p) || p === 'scripts/bundle-workflows.js');
    expect(unwanted).toEqual([]);
    // The tests' fault injection and scripts (test/support) are not in the product.
    const product = walk(join(installed, 'dist', 'src')).filter((p) => p.endsWith('.js'));
    const withTestDoubles = product.filter((p) => /\b(withFaults|scriptByRole|applyFault)\b/.test(readFileSync(join(installed, 'dist', 'src', p), 'utf8')));
    expect(withTestDoubles).toEqual([]);
  });

  it('points main, types and exports at files that exist', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
    expect(targets.filter((t) => !existsSync(join(installed, t)))).toEqual([]);
  });

  it('require("infty-temporal") gives an InftyClient that talks to a Temporal server', async () => {
    const script = join(consumer, 'check.cjs');
    writeFileSync(
      script,
      `
const { InftyClient } = require('infty-temporal');
(async () => {
  const out = { resolved: require.resolve('infty-temporal') };
  try {
    require('infty-temporal/dist/src/cli.js');
    out.deepImport = 'allowed';
  } catch (err) {
    out.deepImport = err.code;
  }
  const client = await InftyClient.connect({ address: process.argv[2], namespace: 'default', taskQueue: 'infty-package-test' });
  try {
    out.listed = Array.isArray(await client.list(5));
    try {
      await client.describe('no-such-run-from-the-package-test');
      out.describe = 'found';
    } catch (err) {
      out.describe = err.message;
    }
  } finally {
    await client.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(String(err && err.stack || err));
  process.exit(1);
});
`,
    );
    const { stdout } = await run(NODE, [script, inject('temporalAddress')], { cwd: consumer, timeout: 30_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    // The packed copy, not this checkout.
    expect(realpathSync(String(out.resolved))).toBe(realpathSync(join(installed, 'dist', 'src', 'client.js')));
    expect(out.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(out.listed).toBe(true);
    expect(out.describe).toMatch(/no run with id "no-such-run-from-the-package-test"/);
  });

  it('works from ESM and type-checks from TypeScript', async () => {
    writeFileSync(
      join(consumer, 'check.mjs'),
      `import { InftyClient } from 'infty-temporal';
import { createInftyWorker } from 'infty-temporal/worker';
import { startDevServer } from 'infty-temporal/server';
process.stdout.write([InftyClient.connect, createInftyWorker, startDevServer].map((f) => typeof f).join(' '));
`,
    );
    const esm = await run(NODE, ['check.mjs'], { cwd: consumer, timeout: 30_000 });
    expect(esm.stdout).toBe('function function function');

    writeFileSync(
      join(consumer, 'check.mts'),
      `import { InftyClient, type ConnectOptions, type RunListEntry } from 'infty-temporal';

const options: ConnectOptions = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'infty' };

export async function latest(): Promise<RunListEntry[]> {
  const client: InftyClient = await InftyClient.connect(options);
  try {
    return await client.list(1);
  } finally {
    await client.close();
  }
}

// @ts-expect-error the options are checked
export const wrong: ConnectOptions = { address: 7233 };
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.mts'],
      }),
    );
    await expect(run(NODE, [TSC, '-p', consumer], { cwd: consumer, timeout: 60_000 })).resolves.toBeDefined();
  });
});
