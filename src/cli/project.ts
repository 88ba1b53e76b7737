/**
 * `infty diff` and `infty apply` (docs/interface.md §1): a project run's change against its base,
 * read from this machine's disk (the run's directory and INFTY_HOME), with real git. No Temporal
 * server is needed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { InftyConfig } from '../config';
import { UsageError } from '../errors';
import { type BaseManifest, readBaseManifest } from '../host/project/base';
import { baseTree, diffTrees, mergeIntoCheckout, workTree } from '../host/project/changes';
import { git, gitTopLevel } from '../host/project/git';
import { readTurnManifest, writeTurnProject } from '../host/project/turnTree';
import { readRunJson } from '../host/runJson';
import { BrokenSnapshotChain } from '../host/snapshotManifest';
import { runIdError } from '../protocol/runId';
import { parsePositiveInt } from './flags';

interface ProjectRun {
  base: BaseManifest;
  /** The project's directory on this machine. */
  projectDir: string;
}

async function projectRun(config: InftyConfig, runId: string): Promise<ProjectRun> {
  const idError = runIdError(runId);
  if (idError) throw new UsageError(idError);
  const runDir = join(config.runsRoot, runId);
  const runJson = await readRunJson(runDir).catch(() => undefined);
  const base = await readBaseManifest(config.home, runId);
  if (!base) {
    if (!runJson)
      throw new UsageError(
        `no run "${runId}" on this machine (looked in ${runDir} and ${join(config.home, 'projects')}); run this where the run's files are (the worker that ran it, or shared storage with the same INFTY_HOME and INFTY_RUNS_ROOT)`,
      );
    throw new UsageError(`run ${runId} has no base: it did not start from a project (infty run --from PATH or --from-git URL), so there is no change to show`);
  }
  const candidates = [base.record.root, join(runDir, base.projectDir)];
  const projectDir = candidates.find((d) => existsSync(d));
  if (!projectDir) throw new UsageError(`the project of run ${runId} is not on this machine (looked in ${candidates.join(' and ')})`);
  return { base, projectDir };
}

export async function diff(config: InftyConfig, runId: string, flags: { stat?: boolean; atTurn?: string }): Promise<number> {
  const { base, projectDir } = await projectRun(config, runId);
  const from = await baseTree(config.home, base);
  let to: string;
  if (flags.atTurn !== undefined) {
    const turn = parsePositiveInt(flags.atTurn, '--at-turn');
    const manifest = await readTurnManifest(config.home, runId, turn).catch((err: unknown) => {
      if (err instanceof BrokenSnapshotChain) throw new UsageError(`run ${runId}'s snapshot of Solver turn ${turn} cannot be read: ${err.message}`);
      throw err;
    });
    if (!manifest) throw new UsageError(`run ${runId} has no snapshot of Solver turn ${turn} (it has not completed that turn yet, or ran elsewhere)`);
    const scratch = await mkdtemp(join(tmpdir(), 'infty-turn-'));
    try {
      await writeTurnProject(config.home, manifest, base.projectDir, scratch);
      to = await workTree(config.home, base, scratch);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  } else {
    to = await workTree(config.home, base, projectDir, 'work');
  }
  process.stdout.write(await diffTrees(config.home, from, to, { stat: flags.stat }));
  return 0;
}

export async function apply(config: InftyConfig, runId: string, flags: { to?: string; check?: boolean }): Promise<number> {
  const { base, projectDir } = await projectRun(config, runId);
  const source = base.record.source;
  const given = flags.to ?? (source.kind === 'path' ? source.path : undefined);
  if (!given) throw new UsageError(`run ${runId} started from a repository URL: say where to apply its change with --to PATH (a checkout)`);
  const target = resolve(given);
  if (!existsSync(target)) throw new UsageError(`${target} does not exist; --to takes a git checkout`);
  const top = await gitTopLevel(target);
  if (!top) throw new UsageError(`${target} is not a git checkout: infty apply merges the change into a git work tree (git init it, or give --to a checkout)`);
  const theirs = await workTree(config.home, base, projectDir, 'work');
  if (theirs === (await baseTree(config.home, base))) {
    process.stdout.write(`run ${runId} changed nothing: nothing to apply\n`);
    return 0;
  }
  const merge = await mergeIntoCheckout(config.home, base, theirs, top);
  if (merge.conflicts.length > 0) {
    process.stdout.write(
      `conflicts: the change of run ${runId} does not merge into ${top}; nothing was changed\n${merge.conflicts.map((c) => `  ${c}`).join('\n')}\n`,
    );
    return 1;
  }
  const patch = await diffTrees(config.home, merge.ours, merge.merged, { binary: true });
  const stat = (await diffTrees(config.home, merge.ours, merge.merged, { stat: true })).toString('utf8');
  if (patch.length === 0) {
    process.stdout.write(`${top} already has the change of run ${runId}: nothing to apply\n`);
    return 0;
  }
  const applyArgs = ['apply', '--whitespace=nowarn', '--allow-empty'];
  const checked = await git([...applyArgs, '--check', '-'], { cwd: top, input: patch, okCodes: [1, 128] });
  if (checked.code !== 0) {
    process.stdout.write(
      `conflicts: the change of run ${runId} cannot be written into ${top} (${checked.stderr.trim().split('\n')[0]}); nothing was changed\n`,
    );
    return 1;
  }
  if (flags.check) {
    process.stdout.write(`applies cleanly to ${top}:\n${stat}`);
    return 0;
  }
  await git([...applyArgs, '-'], { cwd: top, input: patch });
  process.stdout.write(`applied the change of run ${runId} to ${top}:\n${stat}`);
  return 0;
}
