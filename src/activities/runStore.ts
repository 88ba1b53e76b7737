/**
 * Run directories and run.json (docs/behaviour.md §4), written atomically and durably (temp file, fsync, rename)
 * and fenced to the activity attempt (a superseded attempt's stale snapshot never overwrites a
 * newer one).
 */

import { access, mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { type RunJson, readRunJson } from '../host/runJson';
import { sandboxAdvice } from '../host/sandboxAdvice';
import type { CreateRunInput, CreateRunResult, UpdateRunRecordInput } from '../protocol/activities';
import type { ProjectRecord } from '../protocol/project';
import { runIdError } from '../protocol/runId';
import { activityAttemptToken, isSupersededAttempt, withFence } from './durable/fence';
import { writeFileDurable } from './durable/files';
import { forkManifest, forkPositions, materializeFork } from './forkRun';
import { inheritProject, inheritProjectDocs, writeBase } from './project/baseStore';
import { importProject } from './project/importProject';
import { collectProjectDocs } from './project/projectDocs';
import { detectSandbox } from './tools/sandbox';
import { transcriptPath } from './transcripts';

export interface RunStoreDeps {
  home: string;
  runsRoot: string;
  defaultModel: string;
  /** This worker keeps runs on its own disk (local storage): a project path must be on it. */
  localStorage?: boolean;
  workerId?: string;
  /** Long work (a project copy) reports liveness through it (the activity heartbeat). */
  heartbeat?: () => void;
}

/** The reader lives in host/runJson (the CLI reads run.json too); kept here for the store's callers and tests. */

export const RUN_SUBDIRS = ['artifacts', 'memory/claims', 'index', 'deliverable'];

export function runDirFor(runsRoot: string, runId: string): string {
  const err = runIdError(runId);
  if (err) throw ApplicationFailure.nonRetryable(err, 'InvalidRunInput');
  return join(runsRoot, runId);
}

async function writeRunJson(runDir: string, data: RunJson): Promise<void> {
  await writeFileDurable(join(runDir, 'run.json'), `${JSON.stringify(data, null, 2)}\n`, { beforeRename: 'runStore.beforeRename' });
}

/**
 * The fence of a run's run.json lives under INFTY_HOME, not in the run directory (the Solver's
 * workspace), so the Solver neither sees nor can reset it.
 */
export function runJsonFenceResource(home: string, runId: string): string {
  return join(home, 'fences', runId, 'run.json');
}

// Read-modify-write of one run.json is serialized within a worker process (and, when fenced, across processes).
const locks = new Map<string, Promise<unknown>>();
function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(
    key,
    next.catch(() => undefined),
  );
  return next;
}

/** Runs a read-modify-write of run.json under its fence when a token is known (inside an activity, or given). */
function fenced<T>(deps: RunStoreDeps, runId: string, token: number | undefined, fn: () => Promise<T>): Promise<T> {
  return serialized(runDirFor(deps.runsRoot, runId), () => (token === undefined ? fn() : withFence(runJsonFenceResource(deps.home, runId), token, fn)));
}

/** `token` defaults to the running activity attempt's (unfenced outside an activity). */
export async function createRun(
  input: CreateRunInput,
  deps: RunStoreDeps,
  workflowRunId: string,
  token: number | undefined = activityAttemptToken(),
): Promise<CreateRunResult> {
  const runDir = runDirFor(deps.runsRoot, input.runId);
  return fenced(deps, input.runId, token, () => createRunLocked(input, deps, workflowRunId, runDir));
}

async function createRunLocked(input: CreateRunInput, deps: RunStoreDeps, workflowRunId: string, runDir: string): Promise<CreateRunResult> {
  const existing = await readRunJson(runDir);
  if (existing && existing.workflow_run_id !== workflowRunId) {
    throw ApplicationFailure.nonRetryable(`run "${input.runId}" already exists at ${runDir}; choose another run id`, 'RunAlreadyExists');
  }
  const sandbox = await chooseSandbox(input.sandbox, deps);
  const models = Object.fromEntries(input.roles.map((r) => [r.role, r.model ?? deps.defaultModel]));
  const rolloutPaths = Object.fromEntries(input.roles.map((r) => [r.role, transcriptPath(deps.home, input.runId, r.role, 0)]));
  const roleNames = input.roles.map((r) => r.role);
  if (existing) {
    const roles = input.forkOf ? forkPositions(await forkManifest(deps.home, input.forkOf), roleNames) : undefined;
    return {
      runDir,
      sandbox: existing.sandbox,
      models,
      rolloutPaths: forkRollouts(deps, input.runId, rolloutPaths, roles),
      createdAt: existing.created_at,
      ...(roles ? { roles } : {}),
      ...projectResult(existing.project as ProjectRecord | undefined),
    };
  }
  // A project run's directory is made whole in a staging directory and renamed into place, so a
  // refused or interrupted copy leaves nothing half-created (docs/behaviour.md §4.4).
  const staging = input.project ? join(deps.runsRoot, '.staging', input.runId) : runDir;
  if (input.project) {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
  }
  try {
    for (const sub of RUN_SUBDIRS) await mkdir(join(staging, sub), { recursive: true });
    const project = input.project
      ? await importProject(input.project, {
          home: deps.home,
          runId: input.runId,
          stagingDir: staging,
          runDir,
          localStorage: deps.localStorage ?? false,
          workerId: deps.workerId ?? 'this worker',
          tick: deps.heartbeat ?? (() => undefined),
        })
      : undefined;
    // A fork (docs/architecture.md decision 13): its files and transcripts start from the source's turn.
    const roles = input.forkOf ? await materializeFork(deps.home, runDir, input.runId, input.forkOf, roleNames) : undefined;
    const record = project?.record ?? (input.forkOf ? await inheritProject(deps.home, input.forkOf.runId, input.runId, runDir) : undefined);
    if (project) await writeBase(deps.home, input.runId, project.record, project.files);
    const docs = input.forkOf
      ? await inheritProjectDocs(deps.home, input.forkOf.runId, input.runId)
      : input.projectDocs === false
        ? undefined
        : await collectProjectDocs(deps.home, input.runId, record ? docsScope(record, staging, runDir) : null);
    const forkRolloutPaths = forkRollouts(deps, input.runId, rolloutPaths, roles);
    const now = new Date().toISOString();
    await writeRunJson(staging, {
      run_id: input.runId,
      created_at: now,
      updated_at: now,
      objective: input.objective,
      status: 'running',
      sandbox,
      roles: input.roles.map((r) => roleRecord(r.role, models[r.role]!, forkRolloutPaths[r.role]!, r.reasoningEffort ?? null)),
      workflow_run_id: workflowRunId,
      ...(input.forkOf ? { fork_of: { run_id: input.forkOf.runId, turn: input.forkOf.turn } } : {}),
      ...(record ? { project: record } : {}),
      ...(docs ? { project_docs: docs } : {}),
    });
    if (staging !== runDir) await rename(staging, runDir);
    return { runDir, sandbox, models, rolloutPaths: forkRolloutPaths, createdAt: now, ...(roles ? { roles } : {}), ...projectResult(record) };
  } catch (err) {
    if (staging !== runDir) await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** What the workflow keeps of a project run: where the Solver works and how it delivers. */
function projectResult(record: ProjectRecord | undefined): Pick<CreateRunResult, 'project'> {
  return record ? { project: { root: record.root, workdir: record.workdir, deliver: record.deliver } } : {};
}

/** AGENTS.md files are read from the staging copy; they are named by their place in the project. */
function docsScope(record: ProjectRecord, staging: string, runDir: string) {
  const inStaging = (p: string) => join(staging, relative(runDir, p));
  const root = inStaging(record.root);
  return { root, workdir: inStaging(record.workdir), label: (dir: string) => relative(root, dir) || '(project root)' };
}

/** A fork's roles continue in the generation they had at the fork turn. */
function forkRollouts(
  deps: RunStoreDeps,
  runId: string,
  paths: Record<string, string>,
  roles: Record<string, { generation: number }> | undefined,
): Record<string, string> {
  if (!roles) return paths;
  return Object.fromEntries(Object.entries(paths).map(([role, p]) => [role, roles[role] ? transcriptPath(deps.home, runId, role, roles[role].generation) : p]));
}

/**
 * The role's newest transcript file that exists, at `generation` or below; null when it has none.
 * A generation is named before its first model step writes it (a Verifier that passed starts the
 * next round fresh, a Director may never be asked): run.json names only files that exist, so such
 * a role keeps naming the conversation it last had.
 */
async function writtenTranscript(home: string, runId: string, role: string, generation: number): Promise<string | null> {
  for (let g = generation; g >= 0; g--) {
    const path = transcriptPath(home, runId, role, g);
    if (await exists(path)) return path;
  }
  return null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One entry of run.json's `roles`; `reasoning_effort` null: the model's default (undefined: not
 * recorded, older runs); `rollout_path` null: the role has no transcript yet.
 */
function roleRecord(role: string, model: string, rolloutPath: string | null, effort: string | null | undefined): RunJson['roles'][number] {
  const record: RunJson['roles'][number] & { reasoning_effort?: string | null } = { role, model, rollout_path: rolloutPath };
  if (effort !== undefined) record.reasoning_effort = effort;
  return record;
}

async function chooseSandbox(requested: 'auto' | 'none', deps: RunStoreDeps): Promise<'bwrap' | 'none'> {
  if (requested === 'none') return 'none';
  const detected = await detectSandbox();
  if (detected.available) return 'bwrap';
  // On the worker that creates the run: the fix is on its host, which the person starting the run may not run.
  throw ApplicationFailure.nonRetryable(
    `no working sandbox for shell commands on worker ${deps.workerId ?? hostname()}: ${sandboxAdvice(detected)}. ` +
      'Or start the run with --sandbox none to run its commands unsandboxed.',
    'SandboxUnavailable',
  );
}

/** `token` defaults to the running activity attempt's (unfenced outside an activity). */
export async function updateRunRecord(input: UpdateRunRecordInput, deps: RunStoreDeps, token: number | undefined = activityAttemptToken()): Promise<void> {
  const runDir = runDirFor(deps.runsRoot, input.runId);
  await fenced(deps, input.runId, token, async () => {
    const current = await readRunJson(runDir);
    if (!current) throw ApplicationFailure.nonRetryable(`run.json of run "${input.runId}" is missing in ${runDir}`, 'RunMissing');
    const next: RunJson = { ...current, ...(input.extra ?? {}), updated_at: new Date().toISOString() };
    if (input.status) next.status = input.status;
    if (input.roles) {
      const known = new Map(current.roles.map((r) => [r.role, (r as { reasoning_effort?: string | null }).reasoning_effort]));
      const paths = await Promise.all(input.roles.map((r) => writtenTranscript(deps.home, input.runId, r.role, r.generation)));
      next.roles = input.roles.map((r, i) => roleRecord(r.role, r.model, paths[i]!, r.reasoningEffort !== undefined ? r.reasoningEffort : known.get(r.role)));
    }
    await writeRunJson(runDir, next);
  }).catch((err) => {
    // Dropped, not failed: an update is a snapshot of the run's state (roles, final status), and the
    // attempt or activity that owns the fence was scheduled later, so it wrote a newer one.
    if (!isSupersededAttempt(err)) throw err;
  });
}
