/** Writing a project run's base record, and handing it (and its AGENTS.md text) to a fork. */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import {
  type BaseFile,
  type BaseManifest,
  baseManifestPath,
  projectDocsPath,
  projectDocsRecordPath,
  readBaseManifest,
  readProjectDocsRecord,
} from '../../host/project/base';
import { PROJECT_DIR, type ProjectDocsRecord, type ProjectRecord } from '../../protocol/project';
import { writeFileDurable } from '../durable/files';

export async function writeBase(home: string, runId: string, record: ProjectRecord, files: BaseFile[]): Promise<void> {
  const manifest: BaseManifest = { runId, projectDir: PROJECT_DIR, record, files };
  const path = baseManifestPath(home, runId);
  await mkdir(dirname(path), { recursive: true });
  await writeFileDurable(path, `${JSON.stringify(manifest)}\n`);
}

/**
 * A fork of a project run keeps the source's base, so its diff compares against the same starting
 * point; its paths name the fork's run directory. Undefined: the source is no project run.
 */
export async function inheritProject(home: string, sourceRunId: string, runId: string, runDir: string): Promise<ProjectRecord | undefined> {
  const source = await readBaseManifest(home, sourceRunId);
  if (!source) return undefined;
  const sourceRoot = source.record.root;
  const root = join(runDir, source.projectDir);
  const record: ProjectRecord = { ...source.record, root, workdir: join(root, relative(sourceRoot, source.record.workdir)) };
  await writeBase(home, runId, record, source.files);
  return record;
}

export async function inheritProjectDocs(home: string, sourceRunId: string, runId: string): Promise<ProjectDocsRecord | undefined> {
  const record = await readProjectDocsRecord(home, sourceRunId);
  if (!record) return undefined;
  await mkdir(dirname(projectDocsPath(home, runId)), { recursive: true });
  await copyFile(projectDocsPath(home, sourceRunId), projectDocsPath(home, runId));
  await copyFile(projectDocsRecordPath(home, sourceRunId), projectDocsRecordPath(home, runId));
  return record;
}
