/**
 * A separate node process standing in for a worker: it runs one executeTool call from the real
 * sources (TypeScript compiled on load) and prints the result as a JSON line. Tests use it where
 * the worker itself matters: its initial environment (/proc/<pid>/environ) and its death.
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
const [name, args, ctx] = JSON.parse(process.argv[1]);
executeTool(name, args, ctx).then(
  (final) => process.stdout.write(JSON.stringify({ output: final.output }) + '\\n'),
  (error) => process.stdout.write(JSON.stringify({ error: String(error) }) + '\\n'),
);
`;

export interface ToolWorker {
  child: ChildProcess;
  /** The text of the executeTool result (rejects if the process ends without one). */
  result: Promise<string>;
}

/** Starts the stand-in worker with exactly `env` as its environment. */
export function startToolWorker(name: string, args: unknown, ctx: Omit<ToolContext, 'signal' | 'heartbeat'>, env: NodeJS.ProcessEnv): ToolWorker {
  const child = spawn(process.execPath, ['-e', CHILD_PROGRAM, JSON.stringify([name, JSON.stringify(args), ctx])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<string>((resolve, reject) => {
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`tool worker ended (${code ?? signal}) without a result: ${stderr}`));
      const parsed = JSON.parse(line) as { output?: string; error?: string };
      if (parsed.error !== undefined) return reject(new Error(parsed.error));
      resolve(parsed.output!);
    });
  });
  return { child, result };
}
