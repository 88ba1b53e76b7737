/**
 * A project run's base (docs/behaviour.md §4.4): the starting tree, recorded at run start under
 * INFTY_HOME (hidden from the Solver's sandbox, so the Solver cannot change it). Its files are
 * objects of the content-addressed store; `infty diff` compares the project against it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProjectDocsRecord, ProjectRecord } from '../../protocol/project';

/** One file of a base or a turn snapshot (docs/architecture.md decision 13). */
export interface BaseFile {
  path: string;
  /** A regular file's sha256 (its object); for a symbolic link, the sha256 of its target text. */
  sha256: string;
  size: number;
  mode: number;
  mtimeMs: number;
  /** A symbolic link's target (no object is stored for it). */
  link?: string;
}

export interface BaseManifest {
  runId: string;
  /** The project's directory inside the run directory (relative: "project"). */
  projectDir: string;
  record: ProjectRecord;
  /** Paths relative to the project root. */
  files: BaseFile[];
}

export function projectMetaDir(home: string, runId: string): string {
  return join(home, 'projects', runId);
}

export function baseManifestPath(home: string, runId: string): string {
  return join(projectMetaDir(home, runId), 'base.json');
}

/** The AGENTS.md text given to the Solver and the Verifiers (absent: none). */
export function projectDocsPath(home: string, runId: string): string {
  return join(projectMetaDir(home, runId), 'agents.md');
}

export function projectDocsRecordPath(home: string, runId: string): string {
  return join(projectMetaDir(home, runId), 'agents.json');
}

async function readJsonIfPresent<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function readBaseManifest(home: string, runId: string): Promise<BaseManifest | undefined> {
  return readJsonIfPresent(baseManifestPath(home, runId));
}

export function readProjectDocsRecord(home: string, runId: string): Promise<ProjectDocsRecord | undefined> {
  return readJsonIfPresent(projectDocsRecordPath(home, runId));
}
