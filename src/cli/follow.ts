/**
 * Following a run: poll the progress query, print new events, say when the run is held and what
 * to do, return the outcome when it ends (or the hold, with `exitOnHold`).
 */
import type { InftyClient } from '../client';
import type { PendingApproval } from '../protocol/approval';
import type { RunOutcome } from '../protocol/outcome';
import type { HoldKind, Progress, RunEvent } from '../protocol/progress';
import { type LivePartial, livePartials } from './live';
import { formatEvent } from './render';
import { note } from './session';
import { retryTransient } from './transient';

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a running run waits for someone (docs/behaviour.md §5.4). */
export interface Hold {
  reason: string;
  /** The run's own hold kind (src/protocol/progress.ts), or `approval`: a tool call waits for `infty approve` / `infty deny`. */
  kind: HoldKind | 'approval';
  /** `approval`: the waiting call. */
  call?: PendingApproval;
}

export interface FollowOptions {
  print: (line: string) => void;
  onProgress?: (p: Progress) => void;
  /** This process runs the worker (an embedded worker of run/create/demo): the endpoint settings are this process's. */
  embeddedWorker?: boolean;
  /** Return as soon as the run is held, after printing the hold (`--exit-on-hold`). */
  exitOnHold?: boolean;
  /** Each new event (instead of printing it). */
  onEvent?: (e: RunEvent) => void;
  /** A hold was announced (printed), or the hold announced before was released (undefined). */
  onHold?: (hold: Hold | undefined) => void;
  /**
   * Every poll: what the run's pending activities are producing (their heartbeat details, the live
   * view); empty when nothing streams, and once the run has ended.
   */
  onLive?: (partials: LivePartial[]) => void;
}

export type Followed = { progress: Progress | undefined; outcome: RunOutcome; held?: undefined } | { progress: Progress; held: Hold; outcome?: undefined };

/**
 * The hold of a running run, as the workflow recorded it. A worker from before hold kinds were
 * reported sends no `hold`: its paused goal is a hold of kind `other`.
 */
export function holdOf(p: Progress): Hold | undefined {
  if (p.status !== 'running') return undefined;
  if (p.hold !== undefined) return p.hold ?? undefined;
  const { status, statusReason: reason } = p.goal;
  return status === 'paused' && reason ? { reason, kind: 'other' } : undefined;
}

/** A hold of the goal (above), else the first call waiting for a person (docs/behaviour.md §7.8). */
export function waitOf(p: Progress): Hold | undefined {
  const held = holdOf(p);
  const call = p.status === 'running' && p.phase === 'awaiting_approval' ? p.approvals?.pending[0] : undefined;
  if (held || !call) return held;
  const why = call.kind === 'escalation' ? 'asks for network access' : 'is not known to be read-only';
  return { kind: 'approval', call, reason: `waiting for approval of ${call.callId}: ${call.tool} ${why}: ${call.command}` };
}

/** What a held run needs, as lines: the reason and the exact next commands. */
export function holdNotice(runId: string, hold: Hold, opts: { embeddedWorker?: boolean; exitOnHold?: boolean } = {}): string[] {
  const resume = `infty resume ${runId}`;
  const lines =
    hold.kind === 'approval' && hold.call
      ? approvalNotice(runId, hold.call)
      : hold.kind === 'user'
        ? [`run ${runId} is paused by the user; \`${resume}\` resumes it`]
        : [`run ${runId} is held: ${hold.reason}`, '  the run is durable and waits; nothing is lost. To go on:', ...nextSteps(runId, hold, opts)];
  lines.push(
    opts.exitOnHold
      ? '  (--exit-on-hold: stopped following, exit code 4; the run stays held until resumed)'
      : `  (still following; Ctrl+C stops following and leaves the run held)`,
  );
  return lines;
}

function approvalNotice(runId: string, call: PendingApproval): string[] {
  const why = call.kind === 'escalation' ? 'asks for network access' : 'is not on the read-only safe list';
  return [
    `run ${runId} waits for a person: ${call.tool} call ${call.callId} ${why}:`,
    `    ${call.command}`,
    ...(call.justification ? [`    why: ${call.justification}`] : []),
    `  decide from any terminal${call.expiresAt ? ` (denied at ${call.expiresAt} if nobody answers)` : ''}:`,
    `    infty approve ${runId} ${call.callId}`,
    `    infty deny ${runId} ${call.callId} --reason "…"`,
  ];
}

function nextSteps(runId: string, hold: Hold, opts: { embeddedWorker?: boolean; exitOnHold?: boolean }): string[] {
  const resume = `infty resume ${runId}`;
  if (hold.kind === 'steer') return [`    infty steer ${runId} "<what the Solver should do>"`, `    ${resume}`];
  if (hold.kind !== 'endpoint') return [`    ${resume}`];
  if (opts.embeddedWorker) {
    return [
      '    1. fix the endpoint: this process runs the worker, so OPENAI_BASE_URL / OPENAI_API_KEY are read from',
      opts.exitOnHold
        ? "       this process's environment, and its worker stops with it. In a shell with them fixed, start one:"
        : "       this process's environment. Press Ctrl+C (the run stays held), then in a shell with them fixed:",
      '       infty worker',
      `    2. ${resume}`,
      `    3. infty watch ${runId}`,
    ];
  }
  return [
    '    1. fix the endpoint: OPENAI_BASE_URL / OPENAI_API_KEY are read by the worker — the process running',
    '       `infty worker` (or the `infty run` that started one), not this command: set them there and restart it',
    `    2. ${resume}`,
  ];
}

export async function follow(infty: InftyClient, runId: string, opts: FollowOptions): Promise<Followed> {
  let lastSeq = 0;
  let last: Progress | undefined;
  let warned = false;
  /** The reason of the hold last announced; null: not held. */
  let announced: string | null = null;
  for (;;) {
    const described = await retryTransient(() => infty.describe(runId));
    const running = described.status.name === 'RUNNING';
    try {
      const p = await infty.liveProgress(runId, 10_000);
      last = p;
      if (p.lastEventSeq - p.events.length > lastSeq && lastSeq > 0) opts.print(`… ${p.lastEventSeq - p.events.length - lastSeq} earlier event(s) not shown`);
      const fresh = p.events.filter((e) => e.seq > lastSeq);
      for (const e of fresh) {
        if (opts.onEvent) opts.onEvent(e);
        else opts.print(formatEvent(e));
      }
      lastSeq = Math.max(lastSeq, p.lastEventSeq);
      opts.onProgress?.(p);
      warned = false;
      const hold = waitOf(p);
      // Once per hold: a new reason, or a new `paused` event (held again after a resume between two polls).
      if (hold && (hold.reason !== announced || fresh.some((e) => e.kind === 'paused'))) {
        for (const line of holdNotice(runId, hold, opts)) opts.print(line);
        opts.onHold?.(hold);
      } else if (!hold && announced !== null) {
        // Also when the resumed run ended before this poll saw it running again.
        opts.print(`run ${runId} is no longer held (resumed)${p.status === 'running' ? '; following it' : ''}`);
        opts.onHold?.(undefined);
      }
      announced = hold ? hold.reason : null;
      if (hold && opts.exitOnHold) return { progress: p, held: hold };
    } catch (err) {
      if (!running) break;
      if (!warned) note(`waiting for a worker to answer (${(err as Error).message.split('\n')[0]}); is \`infty worker\` running?`);
      warned = true;
    }
    // Read from the description (heartbeat details): no worker needs to answer, and nothing reaches history.
    if (opts.onLive) opts.onLive(running ? await livePartials(infty, described).catch(() => []) : []);
    if (!running) break;
    await sleep(POLL_MS);
  }
  return { progress: last, outcome: await retryTransient(() => infty.result(runId)) };
}
