/**
 * Locating the Temporal CLI (`temporal`) at run time. The routes live in one place,
 * scripts/temporal-cli.js: plain CommonJS because it also runs as the package's postinstall
 * (scripts/setup-temporal.js), before TypeScript is compiled. This module is its typed wrapper and
 * only looks, in the same order: $TEMPORAL_CLI, `temporal` on PATH, then the project-local
 * install recorded in <project>/.temporal/cli.json. Installing is `npm run setup:temporal`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as SharedCli from '../scripts/temporal-cli';

const PACKAGE_NAME = 'infty-temporal';

export type TemporalCliRoute = 'env' | 'path' | 'local';

export interface TemporalCliInfo {
  path: string;
  route: TemporalCliRoute;
  version?: string;
}

let rootDir: string | undefined;

/** The directory of this package: walks up from this file to the package.json named "infty-temporal". */
export function projectRoot(): string {
  if (rootDir) return rootDir;
  let dir = __dirname;
  for (;;) {
    const pkgFile = path.join(dir, 'package.json');
    if (existsSync(pkgFile)) {
      try {
        if (JSON.parse(readFileSync(pkgFile, 'utf8')).name === PACKAGE_NAME) {
          rootDir = dir;
          return dir;
        }
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${__dirname}`);
    dir = parent;
  }
}

/** scripts/temporal-cli.js, found from the package root (the same path from src/ and from dist/src/). */
function sharedCli(): typeof SharedCli {
  const root = projectRoot();
  return createRequire(path.join(root, 'package.json'))(path.join(root, 'scripts', 'temporal-cli.js')) as typeof SharedCli;
}

async function search(): Promise<{ found?: TemporalCliInfo; failures: string[] }> {
  let cli: typeof SharedCli;
  try {
    cli = sharedCli();
  } catch (err) {
    return { failures: [err instanceof Error ? err.message : String(err)] };
  }
  const { found, failures } = await cli.findTemporalCli();
  if (!found) return { failures };
  // findTemporalCli only looks, so the route is one of the three lookup routes.
  return { found: { path: found.path, route: found.route as TemporalCliRoute, version: found.version }, failures };
}

/** Looks for a working Temporal CLI (no installation): $TEMPORAL_CLI, PATH, then the project-local install. */
export async function findTemporalCli(): Promise<TemporalCliInfo | undefined> {
  return (await search()).found;
}

/** Like findTemporalCli, but resolves to the binary's path, or throws an Error saying how to install it. */
export async function requireTemporalCli(): Promise<string> {
  const { found, failures } = await search();
  if (found) return found.path;
  let message: string;
  try {
    message = sharedCli().notFoundMessage(failures);
  } catch {
    message = `Temporal CLI (\`temporal\`) not found (${failures.join('; ')}). Put \`temporal\` on PATH or set TEMPORAL_CLI=/path/to/temporal.`;
  }
  throw new Error(message);
}
