/**
 * The convergence watchdog's detector (docs/behaviour.md §3.7): pure functions over a small state
 * that is part of the run state (carried through continue-as-new). It notices a Solver that is not
 * converging from what the workflow already sees — its tool calls (name, arguments, and the small
 * digest the tool activity returns), its plan updates and the verification rounds — and says
 * whether to escalate to the Director or to pause the goal. No I/O, no clock.
 */
import type { PlanStep } from '../protocol/progress';

/** The thresholds (docs/behaviour.md §3.7 says why these values). */
export const WATCHDOG_WINDOW = 20;
/** Identical calls (same tool, arguments and output) within the window. */
export const REPEATED_CALL_THRESHOLD = 5;
/** Identical failing calls (same tool, arguments, failure and output) within the window. */
export const REPEATED_FAILURE_THRESHOLD = 3;
/** Plan updates that change the steps while no step newly reaches `completed`. */
export const PLAN_CHURN_THRESHOLD = 6;
/** Consecutive failed verification rounds sharing a normalized reason. */
export const VERIFICATION_REPEAT_THRESHOLD = 3;
/** Escalations to the Director before any further signal pauses the goal. */
export const MAX_ESCALATIONS = 2;

const MAX_REASON_CHARS = 160;
const MAX_KEPT_REASONS = 5;
const MAX_EVIDENCE_CHARS = 300;

export type SignalKind = 'repeated_call' | 'failing_command' | 'plan_churn' | 'verification_repeats';

export interface WatchdogSignal {
  kind: SignalKind;
  evidence: string;
}

export interface WatchdogState {
  /** Keys of the Solver's last WATCHDOG_WINDOW tool calls, oldest first (`!` prefix: the call failed). */
  calls: string[];
  /** Plan updates that changed the steps since a step last reached `completed`. */
  planChurn: number;
  /** Hash of the last plan's steps, how many of them were completed, and hashes of the completed steps' texts. */
  planHash: string;
  planDone: number;
  planDoneSteps?: string[];
  /** Consecutive failed verification rounds, and the normalized reasons all of them share. */
  verifyRounds: number;
  verifyReasons: string[];
  /** Escalations to the Director since the watchdog last started afresh, and the kind of the last one. */
  escalations: number;
  escalatedKind: SignalKind | null;
  /** A signal not yet acted on (the loop escalates or pauses before the Solver's next step). */
  pending: WatchdogSignal | null;
}

export function newWatchdog(): WatchdogState {
  return { calls: [], planChurn: 0, planHash: '', planDone: 0, verifyRounds: 0, verifyReasons: [], escalations: 0, escalatedKind: null, pending: null };
}

/** What the workflow sees of one finished tool call. `fingerprint` absent: an activity from before digests. */
export interface SeenCall {
  name: string;
  arguments: string;
  failed: boolean;
  fingerprint?: string;
}

/** Records one Solver tool call; a call repeated (or failing the same way) too often raises a signal. */
export function noteCall(w: WatchdogState, call: SeenCall, label: string): WatchdogState {
  const key = `${call.failed ? '!' : ''}${call.name}:${hash(call.arguments)}:${call.fingerprint ?? ''}`;
  const calls = [...w.calls, key].slice(-WATCHDOG_WINDOW);
  const count = calls.filter((k) => k === key).length;
  const next = { ...w, calls };
  if (call.failed && count >= REPEATED_FAILURE_THRESHOLD) {
    return raise(next, 'failing_command', `the same call failed the same way ${count} times in the Solver's last ${calls.length} tool calls: ${label}`);
  }
  if (count >= REPEATED_CALL_THRESHOLD) {
    return raise(next, 'repeated_call', `the same call with the same output ${count} times in the Solver's last ${calls.length} tool calls: ${label}`);
  }
  return next;
}

/** Completed steps remembered (their text hashes) to tell a newly completed step from an old one. */
const MAX_DONE_STEPS = 50;

/** Records an accepted plan update: a step newly completed is progress; a changed plan without one is churn. */
export function notePlan(w: WatchdogState, steps: PlanStep[]): WatchdogState {
  const doneSteps = steps
    .filter((s) => s.status === 'completed')
    .map((s) => hash(s.step))
    .slice(-MAX_DONE_STEPS);
  const done = doneSteps.length;
  const planHash = hash(JSON.stringify(steps));
  // A step completed that was not completed before is progress, also when the Solver rewrites its
  // plan and drops finished steps (the count alone would not grow).
  const before = w.planDoneSteps ?? [];
  if (done > w.planDone || doneSteps.some((k) => !before.includes(k))) {
    // Progress by the one measure the plan gives: the Director's earlier directive is forgiven too.
    return { ...w, planHash, planDone: done, planDoneSteps: doneSteps, planChurn: 0, escalations: 0, escalatedKind: null };
  }
  const planChurn = planHash === w.planHash ? w.planChurn : w.planChurn + 1;
  const next = { ...w, planHash, planDone: done, planDoneSteps: doneSteps, planChurn };
  if (planChurn >= PLAN_CHURN_THRESHOLD) {
    return raise(next, 'plan_churn', `the plan changed ${planChurn} times with no step completed (now ${steps.length} steps, ${done} completed)`);
  }
  return next;
}

/** Records a verification round: failed rounds that keep sharing a normalized reason raise a signal. */
export function noteVerification(
  w: WatchdogState,
  round: { overall: 'pass' | 'fail'; verdicts: { verdict: 'pass' | 'fail'; reasons: string[] }[] },
): WatchdogState {
  if (round.overall === 'pass') return { ...w, verifyRounds: 0, verifyReasons: [] };
  const reasons = [...new Set(round.verdicts.filter((v) => v.verdict === 'fail').flatMap((v) => v.reasons.map(normalizeReason)))].filter((r) => r !== '');
  const shared = w.verifyRounds === 0 ? reasons : w.verifyReasons.filter((r) => reasons.includes(r));
  const next =
    shared.length === 0
      ? { ...w, verifyRounds: reasons.length ? 1 : 0, verifyReasons: reasons.slice(0, MAX_KEPT_REASONS) }
      : { ...w, verifyRounds: w.verifyRounds + 1, verifyReasons: shared.slice(0, MAX_KEPT_REASONS) };
  if (next.verifyRounds >= VERIFICATION_REPEAT_THRESHOLD) {
    return raise(
      next,
      'verification_repeats',
      `${next.verifyRounds} verification rounds in a row failed for the same reason: ${next.verifyReasons.map((r) => `"${r}"`).join('; ')}`,
    );
  }
  return next;
}

/** What to do with a pending signal: ask the Director first, pause when it keeps happening. */
export type WatchdogAction = { action: 'none' } | { action: 'escalate' | 'pause'; signal: WatchdogSignal };

/**
 * Decides on the pending signal and returns the state after acting on it. A signal of the kind
 * already escalated, or any signal after MAX_ESCALATIONS escalations, pauses; pausing starts the
 * watchdog afresh, so a resumed run is not paused again before a new full window.
 */
export function decide(w: WatchdogState): { state: WatchdogState; next: WatchdogAction } {
  const signal = w.pending;
  if (!signal) return { state: w, next: { action: 'none' } };
  if (w.escalatedKind === signal.kind || w.escalations >= MAX_ESCALATIONS) {
    return { state: newWatchdog(), next: { action: 'pause', signal } };
  }
  return { state: { ...w, pending: null, escalations: w.escalations + 1, escalatedKind: signal.kind }, next: { action: 'escalate', signal } };
}

/** The signal replaces any earlier pending one and the measure that raised it starts a new window. */
function raise(w: WatchdogState, kind: SignalKind, evidence: string): WatchdogState {
  const cut = evidence.length <= MAX_EVIDENCE_CHARS ? evidence : `${evidence.slice(0, MAX_EVIDENCE_CHARS - 1)}…`;
  const fresh: Partial<WatchdogState> =
    kind === 'plan_churn' ? { planChurn: 0 } : kind === 'verification_repeats' ? { verifyRounds: 0, verifyReasons: [] } : { calls: [] };
  return { ...w, ...fresh, pending: { kind, evidence: cut } };
}

/** Lower case, numbers as `#`, punctuation as spaces, whitespace collapsed, cut: "line 12: x" ≈ "Line 14 — x". */
export function normalizeReason(reason: string): string {
  return reason
    .toLowerCase()
    .replace(/\d+/g, '#')
    .replace(/[^\p{L}\p{N}#]+/gu, ' ')
    .trim()
    .slice(0, MAX_REASON_CHARS);
}

/** Two 32-bit FNV-1a hashes (different offsets): 16 hex digits, deterministic, no crypto in workflow code. */
export function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
