/**
 * npm run bench [-- --smoke] [-- --only=1,3] [-- --out=path] [-- --dynamic-config KEY=VALUE ...] [-- --capacity-tuning=JSON]
 *
 * Runs the benchmarks, each on its own Temporal dev server started here (headless, free port,
 * in-memory) with a zero-latency scripted model server and in-process workers (6, the project
 * copy, and 8, turn snapshots, call the worker's functions directly and need neither), prints a table
 * and writes the figures as JSON (bench/results.json; bench/results.smoke.json with --smoke).
 * Every figure is a ratio against a baseline measured in the same run. The smoke size asserts
 * nothing about speed: it exits 1 only when a benchmark failed or did not produce its figures.
 * With --only, the other benchmarks' figures already in the results file are kept (each benchmark
 * carries its own measuredAt). --capacity-tuning passes worker options to benchmark 7 only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { findTemporalCli } from '../src/temporalCli';
import { capacityBench } from './capacity';
import { concurrencyBench } from './concurrency';
import { bundleTimes, globalDynamicConfig, ROOT, removeScratch } from './env';
import { historyBench } from './history';
import { overheadBench } from './overhead';
import { prefixBench } from './prefix';
import { projectCopyBench } from './projectCopy';
import { recoveryBench } from './recovery';
import { type BenchOutput, type BenchResult, missingFigures, renderTable } from './report';
import { snapshotScaleBench } from './snapshotScale';

interface Sizes {
  overhead: Parameters<typeof overheadBench>[0];
  history: Parameters<typeof historyBench>[0];
  concurrency: Parameters<typeof concurrencyBench>[0];
  recovery: Parameters<typeof recoveryBench>[0];
  prefix: Parameters<typeof prefixBench>[0];
  projectCopy: Parameters<typeof projectCopyBench>[0];
  capacity: Parameters<typeof capacityBench>[0];
  snapshotScale: Parameters<typeof snapshotScaleBench>[0];
}

const FULL: Sizes = {
  overhead: { turns: 200, warmupTurns: 5, fixtureBytes: 256, fastServerVariant: true },
  history: { checkpoints: [10, 100, 1000], fixtureBytes: 2048, naiveCap: 1000 },
  concurrency: { runs: [50, 200], turnsPerRun: 5, fixtureBytes: 256 },
  recovery: { kills: 5, fixtureBytes: 256 },
  prefix: { turns: 300, contextWindow: 40_000, fixtureBytes: 8192 },
  projectCopy: {
    trees: [
      { files: 10_000, repeats: 3, storeImports: 10 },
      // One import of 100,000 files takes minutes on a small machine: one timed pair, and the store after two imports.
      { files: 100_000, repeats: 1, storeImports: 2 },
    ],
    dirs: 1_000,
  },
  capacity: { runs: [100, 500, 1000], turnsPerRun: 3, latencyMs: 2000, jitter: 0.5, fixtureBytes: 256, coldStartRuns: 200, historySample: 100 },
  snapshotScale: {
    trees: [
      { files: 10_000, repeats: 3 },
      { files: 100_000, repeats: 3 },
    ],
    changes: [1, 10, 100, 1000],
    dirs: 1_000,
  },
};

const SMOKE: Sizes = {
  overhead: { turns: 5, warmupTurns: 1, fixtureBytes: 256, fastServerVariant: false },
  history: { checkpoints: [2, 5, 10], fixtureBytes: 2048, naiveCap: 10 },
  concurrency: { runs: [5], turnsPerRun: 2, fixtureBytes: 256 },
  recovery: { kills: 1, fixtureBytes: 256 },
  prefix: { turns: 12, contextWindow: 6_000, fixtureBytes: 4096 },
  projectCopy: { trees: [{ files: 500, repeats: 1, storeImports: 10 }], dirs: 1_000 },
  capacity: { runs: [5], turnsPerRun: 2, latencyMs: 200, jitter: 0.5, fixtureBytes: 256, coldStartRuns: 5, historySample: 5 },
  snapshotScale: { trees: [{ files: 2_500, repeats: 1 }], changes: [1, 10, 100], dirs: 1_000 },
};

function arg(name: string): string | undefined {
  const hit = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
}

async function machineInfo() {
  const cli = await findTemporalCli().catch(() => undefined);
  let cliVersionLine: string | undefined;
  if (cli) {
    try {
      cliVersionLine = execFileSync(cli.path, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      cliVersionLine = cli.version;
    }
  }
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    availableParallelism: os.availableParallelism?.(),
    memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGB: Math.round((os.freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    temporalCli: cli ? { path: cli.path, version: cli.version, versionLine: cliVersionLine } : null,
    temporalSdk: require('@temporalio/worker/package.json').version as string,
  };
}

/** Every `--dynamic-config KEY=VALUE` / `--dynamic-config=KEY=VALUE`. */
function dynamicConfigArgs(): Record<string, string | number | boolean> {
  const argv = process.argv.slice(2);
  const out: Record<string, string | number | boolean> = {};
  argv.forEach((a, i) => {
    const raw = a.startsWith('--dynamic-config=') ? a.slice('--dynamic-config='.length) : a === '--dynamic-config' ? argv[i + 1] : undefined;
    if (!raw?.includes('=')) return;
    const key = raw.slice(0, raw.indexOf('='));
    const value = raw.slice(raw.indexOf('=') + 1);
    out[key] = value === 'true' ? true : value === 'false' ? false : Number.isFinite(Number(value)) && value.trim() !== '' ? Number(value) : value;
  });
  return out;
}

/** The benchmarks of an earlier results file that this invocation does not run (with their own measuredAt, or the file's startedAt). */
function keptBenchmarks(path: string, only: string[]): Record<string, unknown> {
  if (!existsSync(path)) return {};
  const earlier = JSON.parse(readFileSync(path, 'utf8')) as { startedAt?: string; benchmarks?: Record<string, Record<string, unknown>> };
  return Object.fromEntries(
    Object.entries(earlier.benchmarks ?? {})
      .filter(([id]) => !only.includes(id))
      .map(([id, b]) => [id, { measuredAt: earlier.startedAt, ...b }]),
  );
}

async function main(): Promise<number> {
  const smoke = arg('smoke') !== undefined;
  Object.assign(globalDynamicConfig, dynamicConfigArgs());
  const only = arg('only')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out = arg('out') || join(ROOT, 'bench', smoke ? 'results.smoke.json' : 'results.json');
  const sizes = smoke ? SMOKE : FULL;
  const capacityTuning = arg('capacity-tuning');
  if (capacityTuning) sizes.capacity.tuning = JSON.parse(capacityTuning);
  const started = new Date();
  const machine = await machineInfo();
  process.stderr.write(
    `infty bench (${smoke ? 'smoke' : 'full'}) on ${machine.cpus} cpus, node ${machine.node}, ${machine.temporalCli?.versionLine ?? 'temporal ?'}\n`,
  );

  const benches: { id: string; title: string; run: () => Promise<BenchOutput> }[] = [
    { id: '1', title: 'Orchestration overhead per turn', run: () => overheadBench(sizes.overhead) },
    { id: '2', title: 'Workflow history growth (claim-check vs naive conversation-in-history)', run: () => historyBench(sizes.history) },
    { id: '3', title: 'Concurrency: many runs on one in-process worker', run: () => concurrencyBench(sizes.concurrency) },
    { id: '4', title: 'Recovery after SIGKILL of the worker during a model call', run: () => recoveryBench(sizes.recovery) },
    { id: '5', title: 'Prompt-cache prefix ratio over a long run with compactions', run: () => prefixBench(sizes.prefix) },
    { id: '6', title: 'Project copy: import through the content-addressed store vs cp -r', run: () => projectCopyBench(sizes.projectCopy) },
    { id: '7', title: 'Capacity at model speed: many runs on one worker, model replies taking seconds', run: () => capacityBench(sizes.capacity) },
    { id: '8', title: 'Turn snapshots of a big project run: cost per turn against the files changed', run: () => snapshotScaleBench(sizes.snapshotScale) },
  ];

  const results: BenchResult[] = [];
  for (const b of benches) {
    if (only && !only.includes(b.id)) continue;
    process.stderr.write(`[${b.id}] ${b.title} ...\n`);
    const t0 = performance.now();
    let result: BenchResult;
    try {
      const output = await b.run();
      const missing = missingFigures(output);
      result = {
        id: b.id,
        title: b.title,
        ok: missing.length === 0,
        seconds: (performance.now() - t0) / 1000,
        rows: output.rows,
        data: output.data,
        ...(missing.length ? { missing } : {}),
      };
    } catch (err) {
      const e = err as Error;
      result = { id: b.id, title: b.title, ok: false, seconds: (performance.now() - t0) / 1000, error: e.stack ?? String(e), rows: [], data: {} };
    }
    process.stderr.write(`[${b.id}] ${result.ok ? 'done' : 'FAILED'} in ${result.seconds.toFixed(1)} s\n`);
    results.push(result);
  }

  const report = {
    size: smoke ? 'smoke' : 'full',
    startedAt: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 100) / 10,
    machine,
    sizes,
    serverDynamicConfig: globalDynamicConfig,
    bundleMs: await bundleTimes(),
    ok: results.every((r) => r.ok),
    benchmarks: Object.fromEntries([
      ...Object.entries(only ? keptBenchmarks(out, only) : {}),
      ...results.map((r) => [
        r.id,
        {
          title: r.title,
          measuredAt: started.toISOString(),
          ok: r.ok,
          seconds: Math.round(r.seconds * 10) / 10,
          ...(r.error ? { error: r.error } : {}),
          ...(r.missing ? { missing: r.missing } : {}),
          ...r.data,
        },
      ]),
    ]),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  const head = `Infty on Temporal benchmarks (${report.size}) — ${machine.cpus} cpus (${machine.cpuModel ?? '?'}), ${machine.memoryGB} GB, node ${machine.node}, ${machine.temporalCli?.versionLine ?? 'temporal ?'}, SDK ${machine.temporalSdk}`;
  process.stdout.write(`${head}\n${renderTable(results)}\n\nresults: ${out} (${report.seconds} s in all)\n\n`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => {
    removeScratch();
    process.exit(code);
  },
  (err) => {
    removeScratch();
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
