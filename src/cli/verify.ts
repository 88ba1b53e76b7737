/**
 * `infty verify RUN_ID` (docs/interface.md §1): is a delivered run's deliverable on disk still the
 * content every Verifier passed? Exit 0 unchanged, 1 changed, 2 not delivered or unknown.
 */

import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { InftyConfig } from '../config';
import { UnreachableError, UsageError } from '../errors';
import { type HashedContent, hashContent, type ManifestEntry } from '../host/contentHash';
import { readRunJson } from '../host/runJson';
import type { RunOutcome } from '../protocol/outcome';
import { withClient } from './embedded';
import { note } from './session';

type Delivered = Extract<RunOutcome, { status: 'delivered' }>;

/** The run's outcome: the workflow's result, or run.json's outcome when the workflow is gone or Temporal is unreachable. */
async function outcomeOf(config: InftyConfig, runId: string): Promise<RunOutcome> {
  /** `failure`: why Temporal could not say; it stands (exit 3) when run.json cannot either. */
  const fromRunJson = async (why: string, failure?: UnreachableError): Promise<RunOutcome> => {
    const dir = join(config.runsRoot, runId);
    const runJson = existsSync(dir) ? await readRunJson(dir).catch(() => undefined) : undefined;
    const outcome = runJson?.outcome as RunOutcome | undefined;
    const reason = why.split('\n')[0]!.replace(/\.$/, '');
    if (!outcome) {
      if (failure) throw failure;
      throw new UsageError(`${reason}; ${join(dir, 'run.json')} holds no outcome either: nothing to verify`);
    }
    note(`${reason}; using the outcome in ${join(dir, 'run.json')}`);
    return outcome;
  };
  try {
    return await withClient(config, async (infty) => {
      let described: WorkflowExecutionDescription;
      try {
        described = await infty.describe(runId);
      } catch (err) {
        if (err instanceof UsageError) return fromRunJson(err.message);
        throw err;
      }
      if (described.status.name === 'RUNNING') throw new UsageError(`run ${runId} is still running: nothing delivered to verify yet`);
      return infty.result(runId);
    });
  } catch (err) {
    if (err instanceof UnreachableError) return fromRunJson(err.message, err);
    throw err;
  }
}

/**
 * Where the deliverable is on this machine: the outcome's path, or the same path under this
 * machine's INFTY_RUNS_ROOT (the run directory mounted elsewhere). `runDirVisible`: this machine
 * sees the run directory, so a deliverable that is not there was removed.
 */
function locate(config: InftyConfig, runId: string, deliverablePath: string): { path?: string; runDirVisible: boolean } {
  const marker = `${sep}${runId}`;
  const at = deliverablePath.lastIndexOf(`${marker}${sep}`);
  const end = at >= 0 ? at + marker.length : deliverablePath.endsWith(marker) ? deliverablePath.length : -1;
  const candidates: { runDir?: string; path: string }[] = [{ runDir: end >= 0 ? deliverablePath.slice(0, end) : undefined, path: deliverablePath }];
  if (end >= 0) candidates.push({ runDir: join(config.runsRoot, runId), path: join(config.runsRoot, runId, deliverablePath.slice(end)) });
  for (const c of candidates) if (existsSync(c.path)) return { path: c.path, runDirVisible: true };
  return { runDirVisible: candidates.some((c) => c.runDir !== undefined && existsSync(join(c.runDir, 'run.json'))) };
}

interface ManifestDiff {
  changed: string[];
  added: string[];
  removed: string[];
  /**
   * The verified manifest lists only the first 200 files: changed and removed files are those
   * among them; added files are not listed (the hashes still cover every file).
   */
  partial: boolean;
}

function diffManifests(verified: ManifestEntry[], verifiedFiles: number, now: ManifestEntry[]): ManifestDiff {
  const before = new Map(verified.map((e) => [e.path, e]));
  const partial = verifiedFiles > verified.length;
  const present = new Set(now.map((e) => e.path));
  const diff: ManifestDiff = { changed: [], added: [], removed: [], partial };
  for (const e of now) {
    const was = before.get(e.path);
    if (!was) {
      if (!partial) diff.added.push(e.path);
    } else if (was.sha256 !== e.sha256 || was.size !== e.size) diff.changed.push(e.path);
  }
  for (const e of verified) if (!present.has(e.path)) diff.removed.push(e.path);
  return diff;
}

export async function verify(config: InftyConfig, runId: string, flags: { json?: boolean }): Promise<number> {
  const outcome = await outcomeOf(config, runId);
  if (outcome.status !== 'delivered') throw new UsageError(`run ${runId} was not delivered (${outcome.status}: ${outcome.reason}): nothing to verify`);
  if (!outcome.verifiedHash) throw new UsageError(`run ${runId} was delivered before verified hashes were recorded: nothing to compare against`);
  const o: Delivered = outcome;
  const verifiedHash = outcome.verifiedHash;
  const { path, runDirVisible } = locate(config, runId, o.deliverablePath);
  if (!path && !runDirVisible) {
    throw new UsageError(
      `the deliverable ${o.deliverablePath} is not on this machine: infty verify reads it from disk, so run it where the run's directory is ` +
        '(the worker that ran it, or a machine mounting the same storage, with the same INFTY_RUNS_ROOT)',
    );
  }
  const now: HashedContent | undefined = path ? await hashContent(path) : undefined;
  const currentHash = now?.contentHash ?? null;
  const unchanged = currentHash === verifiedHash;
  const diff =
    !unchanged && now?.kind === 'directory' && o.deliverable?.kind === 'directory'
      ? diffManifests(o.deliverable.manifest, o.deliverable.files, now.manifest)
      : undefined;
  const doc = { runId, path: path ?? o.deliverablePath, kind: o.deliverable?.kind ?? null, verifiedHash, currentHash, unchanged, ...(diff ? { diff } : {}) };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(doc)}\n`);
  } else if (unchanged) {
    process.stdout.write(`unchanged: ${doc.path}\n  verified hash: ${verifiedHash}\n`);
  } else {
    const lines = [`changed: ${doc.path}${now ? '' : ' (no longer there)'}`, `  verified hash: ${verifiedHash}`, `  current hash:  ${currentHash ?? '(none)'}`];
    if (diff) {
      for (const [label, list] of [
        ['changed', diff.changed],
        ['added', diff.added],
        ['removed', diff.removed],
      ] as const) {
        if (list.length) lines.push(`  ${label}: ${list.join(', ')}`);
      }
      if (diff.partial) lines.push('  (the verified manifest lists only the first 200 files: added files and changes after those show only in the hash)');
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return unchanged ? 0 : 1;
}
