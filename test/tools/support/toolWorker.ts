/**
 * A separate node process standing in for a worker: it runs executeTool calls one after the other
 * from the real sources (TypeScript compiled on load) and prints each result as a JSON line. Tests
 * use it where the worker itself matters: its initial environment (/proc/<pid>/environ), its
 * death, its user, and that it goes on after a command misbehaved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { ToolContext } from '../../../src/activities/tools/context';

const ROOT = path.join(__dirname, '..', '..', '..');

const CHILD_PROGRAM = `
const fs = require('fs');
const ts = require(require.resolve('typescript', { paths: [${JSON.stringify(ROOT)}] }));
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
const { executeTool } = require(${JSON.stringify(path.join(ROOT, 'src', 'activities', 'tools', 'index.ts'))});
const [calls, ctx] = JSON.parse(process.argv[1]);
(async () => {
  for (const [name, args] of calls) {
    await executeTool(name, args, ctx).then(
      (final) => process.stdout.write(JSON.stringify({ output: final.output }) + '\\n'),
      (error) => process.stdout.write(JSON.stringify({ error: String(error) }) + '\\n'),
    );
  }
})();
`;

export interface ToolWorker {
  child: ChildProcess;
  /** The text of the executeTool result (rejects if the process ends without one). */
  result: Promise<string>;
}

/** Starts the stand-in worker with exactly `env` as its environment. */
export function startToolWorker(name: string, args: unknown, ctx: Omit<ToolContext, 'signal' | 'heartbeat'>, env: NodeJS.ProcessEnv): ToolWorker {
  const worker = startToolWorkerCalls([[name, args]], ctx, env);
  return { child: worker.child, result: worker.results.then((r) => r[0]!) };
}

export interface ToolWorkerCalls {
  child: ChildProcess;
  /** Each call's result in order (rejects if the process ends before the last, or a call threw). */
  results: Promise<string[]>;
}

/** The stand-in worker running `calls` in turn; `uid`: as that user and group (then HOME and runDir must suit it). */
export function startToolWorkerCalls(
  calls: Array<[string, unknown]>,
  ctx: Omit<ToolContext, 'signal' | 'heartbeat'>,
  env: NodeJS.ProcessEnv,
  opts: { uid?: number } = {},
): ToolWorkerCalls {
  const encoded = calls.map(([name, args]) => [name, JSON.stringify(args)]);
  const child = spawn(process.execPath, ['-e', CHILD_PROGRAM, JSON.stringify([encoded, ctx])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const results = new Promise<string[]>((resolve, reject) => {
    child.on('close', (code, signal) => {
      const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
      if (lines.length < calls.length)
        return reject(new Error(`tool worker ended (${code ?? signal}) after ${lines.length} of ${calls.length} results: ${stderr}`));
      const parsed = lines.map((l) => JSON.parse(l) as { output?: string; error?: string });
      const failed = parsed.find((p) => p.error !== undefined);
      if (failed) return reject(new Error(failed.error));
      resolve(parsed.map((p) => p.output!));
    });
  });
  return { child, results };
}
