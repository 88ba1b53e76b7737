/** `infty list`, `infty show`, `infty goal`, `infty watch`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InftyClient } from '../client';
import type { InftyConfig } from '../config';
import { UnreachableError, UsageError } from '../errors';
import { type RunJson, readRunJson } from '../host/runJson';
import { formatDuration } from '../protocol/duration';
import { type Goal, validateObjective } from '../protocol/goal';
import type { Progress } from '../protocol/progress';
import { withClient } from './embedded';
import { follow, holdNotice, waitOf } from './follow';
import { afterInterruptHint, catchInterrupts, exitCodeOf, type Interrupt } from './interrupt';
import { ChangedPartials, formatLiveBlock, LiveLines, type LivePartial, partialJson } from './live';
import {
  costLine,
  formatEvent,
  formatGoal,
  formatOutcome,
  formatPhase,
  formatPlan,
  formatProgress,
  formatProjectLines,
  formatSummary,
  formatTokens,
  goalBar,
  listedGoalStatus,
} from './render';
import { note } from './session';
import { STORED_NOTE, storedView } from './storedView';

/** `--where`: only the runs a Temporal visibility query matches (docs/interface.md §1 "Fleet control"). */
export async function list(config: InftyConfig, flags: { json?: boolean; where?: string }): Promise<number> {
  const where = flags.where?.trim();
  if (flags.where !== undefined && !where) throw new UsageError('--where needs a Temporal visibility query');
  return withClient(config, async (infty) => {
    const runs = await infty.list(200, { where });
    const rows = await Promise.all(
      runs.map(async (r) => {
        const dir = join(config.runsRoot, r.runId);
        const runJson = existsSync(dir) ? await readRunJson(dir).catch(() => undefined) : undefined;
        return {
          ...r,
          runStatus: runJson?.status ?? (r.status === 'running' ? 'running' : r.status),
          updatedAt: runJson?.updated_at ?? r.closedAt ?? r.startedAt,
          path: runJson ? dir : null,
        };
      }),
    );
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    if (rows.length === 0 && where) {
      process.stdout.write('no runs match\n');
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write('no runs yet; start one with: infty run "<objective>"  (or try: infty demo)\n');
      return 0;
    }
    const header = `${'RUN ID'.padEnd(32)} ${'STATUS'.padEnd(17)} ${'GOAL'.padEnd(15)} ${'TOKENS'.padStart(10)}  ${'UPDATED'.padEnd(24)} PATH`;
    process.stdout.write(`${header}\n`);
    for (const r of rows) {
      process.stdout.write(
        `${r.runId.padEnd(32)} ${r.runStatus.padEnd(17)} ${(listedGoalStatus(r.goalStatus, r.status, r.runStatus) ?? '-').padEnd(15)} ${(r.tokensUsed === null ? '-' : formatTokens(r.tokensUsed)).padStart(10)}  ${(r.updatedAt ?? '-').padEnd(24)} ${r.path ?? '-'}\n`,
      );
    }
    return 0;
  });
}

/** How long a query waits for a worker before the answer comes from what Temporal stores. */
const LIVE_QUERY_MS = 1_200;

/** A query when a worker polls and answers within LIVE_QUERY_MS; undefined (with the reason) otherwise. */
async function live<T>(infty: InftyClient, query: () => Promise<T>): Promise<{ value?: T; why: string }> {
  if (!(await infty.hasWorkflowPoller())) return { why: `no worker polls task queue "${infty.options.taskQueue}"` };
  try {
    return { value: await query(), why: '' };
  } catch (err) {
    return { why: `no worker answered within ${LIVE_QUERY_MS / 1000} s (${(err as Error).message.split('\n')[0]})` };
  }
}

/** The progress query when a worker can answer it; otherwise what run.json and Temporal store. */
async function progressOrRecord(config: InftyConfig, infty: InftyClient, runId: string) {
  const described = await infty.describe(runId);
  const dir = join(config.runsRoot, runId);
  const runJson = existsSync(dir) ? ((await readRunJson(dir).catch(() => undefined)) ?? null) : null;
  const versioning = versioningOf(described.raw.workflowExecutionInfo?.versioningInfo);
  const workflowStatus = described.status.name.toLowerCase();
  const { value: progress, why } = await live(infty, () => infty.liveProgress(runId, LIVE_QUERY_MS));
  if (progress) return { progress, runJson, workflowStatus, versioning };
  const outcome = described.status.name === 'RUNNING' ? undefined : await infty.result(runId);
  return { progress: undefined, runJson, workflowStatus, versioning, outcome, stored: storedView(described), queryError: why };
}

/** Which Worker Deployment version runs the workflow (docs/architecture.md "Worker Versioning"); null when unversioned. */
export interface RunVersioning {
  behavior: 'pinned' | 'auto-upgrade' | 'unspecified';
  deploymentName: string;
  buildId: string;
  /** Set by `temporal workflow update-options`: it wins over the behavior the worker set. */
  override: boolean;
}

interface VersioningInfo {
  behavior?: number | null;
  deploymentVersion?: { deploymentName?: string | null; buildId?: string | null } | null;
  versioningOverride?: object | null;
}

/** The API's VersioningBehavior: 1 PINNED, 2 AUTO_UPGRADE. */
function versioningOf(info: VersioningInfo | null | undefined): RunVersioning | null {
  const version = info?.deploymentVersion;
  if (!version?.buildId) return null;
  const behavior = info?.behavior === 1 ? 'pinned' : info?.behavior === 2 ? 'auto-upgrade' : 'unspecified';
  return { behavior, deploymentName: version.deploymentName ?? '', buildId: version.buildId, override: Boolean(info?.versioningOverride) };
}

function formatVersioning(v: RunVersioning | null): string {
  if (!v) return 'version:   unversioned\n';
  const how = v.behavior === 'pinned' ? 'pinned to' : v.behavior === 'auto-upgrade' ? 'auto-upgrade, now on' : 'on';
  return `version:   ${how} ${v.deploymentName}/${v.buildId}${v.override ? ' (override set with temporal workflow update-options)' : ''}\n`;
}

export async function show(config: InftyConfig, runId: string, flags: { json?: boolean }): Promise<number> {
  return withClient(config, async (infty) => {
    const r = await progressOrRecord(config, infty, runId);
    if (flags.json) {
      const doc = r.progress
        ? { ...r.progress, workflowStatus: r.workflowStatus, versioning: r.versioning, runJson: r.runJson }
        : {
            runId,
            status: r.outcome?.status ?? 'running',
            workflowStatus: r.workflowStatus,
            versioning: r.versioning,
            outcome: r.outcome,
            runJson: r.runJson,
            goal: r.stored?.goal ?? null,
            phase: r.stored?.phase ?? null,
            note: `${r.queryError}; ${STORED_NOTE}`,
          };
      process.stdout.write(`${JSON.stringify(doc)}\n`);
      return 0;
    }
    if (r.progress) {
      process.stdout.write(`${formatProgress(r.progress)}\nworkflow:  ${r.workflowStatus}\n${formatVersioning(r.versioning)}${formatProjectLines(r.runJson)}`);
    } else {
      const goal = r.stored?.goal;
      process.stdout.write(
        `run:       ${runId} (${r.workflowStatus})\n` +
          (r.stored?.phase ? `phase:     ${r.stored.phase}\n` : '') +
          (goal ? `${formatGoal(goal)}\n` : '') +
          (r.runJson ? formatRunJsonLines(join(config.runsRoot, runId), r.runJson) : '') +
          formatVersioning(r.versioning) +
          formatProjectLines(r.runJson) +
          (r.outcome ? `outcome:   ${formatOutcome(r.outcome)}\n` : '') +
          `(${r.queryError}; ${STORED_NOTE})\n`,
      );
    }
    return 0;
  });
}

/** run.json's essentials: where the run lives, its state on disk and who played which role. */
function formatRunJsonLines(dir: string, runJson: RunJson): string {
  const roles = runJson.roles.map((r) => `${r.role} (${r.model})`).join(', ');
  return `directory: ${dir}\nrun.json:  status ${runJson.status}, updated ${runJson.updated_at}, sandbox ${runJson.sandbox}\nroles:     ${roles}\n`;
}

/** `infty goal RUN [--objective TEXT]`: the goal, or the goal after changing its objective. */
export async function goal(config: InftyConfig, runId: string, flags: { json?: boolean; objective?: string }): Promise<number> {
  let objective: string | undefined;
  if (flags.objective !== undefined) {
    const checked = validateObjective(flags.objective);
    if (!checked.ok) throw new UsageError(`invalid --objective: ${checked.error} (nothing was changed)`);
    objective = checked.value;
  }
  return withClient(config, async (infty) => {
    const g = objective === undefined ? await readGoal(infty, runId) : await infty.setGoal(runId, { objective });
    if (flags.json) process.stdout.write(`${JSON.stringify(g)}\n`);
    else
      process.stdout.write(
        `${objective === undefined ? '' : `objective of ${runId} updated; the Solver hears it with its next model call\n`}${formatGoal(g)}\n`,
      );
    return 0;
  });
}

/** The goal query, or without a worker the goal Temporal stores (with a note on stderr). */
async function readGoal(infty: InftyClient, runId: string): Promise<Goal> {
  const described = await infty.describe(runId);
  const { value, why } = await live(infty, () => infty.liveGoal(runId, LIVE_QUERY_MS));
  if (value) return value;
  const stored = storedView(described).goal;
  if (!stored) throw new UnreachableError(`${why}, and run ${runId} was started before goals were stored in Temporal; start \`infty worker\` to see its goal`);
  note(`${why}; ${STORED_NOTE}`);
  return stored;
}

function dashboard(p: Progress, live: LivePartial[]): string {
  const liveBlock = formatLiveBlock(live, { width: process.stdout.columns });
  return [
    `\x1b[1mInfty run ${p.runId}\x1b[0m  (${p.status})`,
    `phase:   ${formatPhase(p)}`,
    `goal:    ${p.goal.status}${p.goal.statusReason ? ` (${p.goal.statusReason})` : ''}`,
    `tokens:  ${goalBar(p.goal)}`,
    `cost:    ${costLine(p.goal)}`,
    `time:    ${formatDuration(p.goal.timeUsedSeconds)} active   verification rounds: ${p.verificationRounds}`,
    ...formatPlan(p),
    'last events:',
    ...p.events.slice(-12).map((e) => `  ${formatEvent(e)}`),
    ...(liveBlock.length ? ['', ...liveBlock] : []),
  ].join('\n');
}

interface WatchFlags {
  exitOnHold?: boolean;
  json?: boolean;
}

/**
 * A live view: redraws in place on a terminal, plain lines otherwise, JSON lines with `--json`
 * (docs/interface.md §2); the text of a running model step and the output of a running command come
 * from the activities' heartbeat details. Exits when the run ends.
 */
export async function watch(config: InftyConfig, runId: string, flags: WatchFlags = {}): Promise<number> {
  const interrupt = catchInterrupts();
  try {
    return await withClient(config, (infty) => watchWith(infty, runId, flags, interrupt), { interrupted: () => interrupt.received !== undefined });
  } finally {
    interrupt.dispose();
  }
}

const jsonLine = (doc: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(doc)}\n`);

async function watchWith(infty: InftyClient, runId: string, flags: WatchFlags, interrupt: Interrupt): Promise<number> {
  await infty.describe(runId);
  const json = flags.json === true;
  const tty = process.stdout.isTTY && !json;
  let lastPhase = '';
  let lastProgress: Progress | undefined;
  const lines = new LiveLines();
  const changed = new ChangedPartials();
  const redraw = (p: Progress, live: LivePartial[]) => {
    // Redrawn every poll: the hold and its next commands are part of the picture.
    const hold = waitOf(p);
    const advice = hold ? `\n\n${holdNotice(runId, hold, { exitOnHold: flags.exitOnHold }).join('\n')}` : '';
    process.stdout.write(`\x1b[H\x1b[2J${dashboard(p, live)}${advice}\n`);
  };
  const followed = follow(infty, runId, {
    // With --json, human lines (a hold's next commands) go to stderr.
    print: (line) => {
      if (json) process.stderr.write(`${line}\n`);
      else if (!tty) process.stdout.write(`${line}\n`);
    },
    ...(json ? { onEvent: (e) => jsonLine({ type: 'event', ...e }) } : {}),
    onHold: (hold) => {
      if (json) jsonLine(hold ? { type: 'held', reason: hold.reason, kind: hold.kind, ...(hold.call ? { call: hold.call } : {}) } : { type: 'released' });
    },
    onProgress: (p) => {
      lastProgress = p;
      if (tty) return; // drawn with the live view below
      const phase = `${p.phase}|${p.goal.status}|${p.goal.tokensUsed}`;
      if (phase !== lastPhase) {
        if (json) {
          const { status, tokensUsed, tokenBudget } = p.goal;
          jsonLine({ type: 'phase', phase: p.phase, activeRole: p.activeRole, goal: { status, tokensUsed, tokenBudget } });
        } else {
          process.stdout.write(`-- phase ${p.phase}${p.activeRole ? ` (${p.activeRole})` : ''}; goal ${p.goal.status}; ${goalBar(p.goal)}\n`);
        }
      }
      lastPhase = phase;
    },
    onLive: (live) => {
      if (json) for (const p of changed.changed(live)) jsonLine(partialJson(p));
      else if (tty) {
        if (lastProgress) redraw(lastProgress, live);
      } else for (const line of lines.feed(live)) process.stdout.write(`${line}\n`);
    },
    exitOnHold: flags.exitOnHold,
  });
  followed.catch(() => undefined); // after an interrupt it fails once the connection closes
  const ended = await Promise.race([followed, interrupt.first]);
  if (typeof ended === 'string') {
    note(afterInterruptHint(runId, false));
    return exitCodeOf(ended);
  }
  if (ended.held) {
    if (tty && lastProgress) redraw(lastProgress, []);
    return 4; // --exit-on-hold: the hold was printed; the run stays held (docs/interface.md §3)
  }
  const { progress, outcome } = ended;
  if (json) jsonLine({ type: 'outcome', outcome });
  else if (progress) process.stdout.write(`\n${formatSummary(progress, outcome)}\n`);
  return outcome.status === 'delivered' ? 0 : 1;
}
