import { describe, expect, it } from 'vitest';
import type { PlanStep } from '../../src/protocol/progress';
import {
  decide,
  hash,
  MAX_ESCALATIONS,
  newWatchdog,
  normalizeReason,
  noteCall,
  notePlan,
  noteVerification,
  PLAN_CHURN_THRESHOLD,
  REPEATED_CALL_THRESHOLD,
  REPEATED_FAILURE_THRESHOLD,
  type SeenCall,
  VERIFICATION_REPEAT_THRESHOLD,
  WATCHDOG_WINDOW,
  type WatchdogState,
} from '../../src/workflows/watchdog';

const call = (args: string, failed = false, fingerprint = 'f0'): SeenCall => ({ name: 'shell', arguments: args, failed, fingerprint });
const calls = (w: WatchdogState, list: SeenCall[]): WatchdogState => list.reduce((s, c) => noteCall(s, c, `shell ${c.arguments}`), w);
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const fail = (reasons: string[]) => ({ overall: 'fail' as const, verdicts: [{ verdict: 'fail' as const, reasons }] });

describe('convergence watchdog: repeated calls', () => {
  it('flags the same call with the same output at the threshold, not one below', () => {
    const below = calls(
      newWatchdog(),
      times(REPEATED_CALL_THRESHOLD - 1, () => call('ls')),
    );
    expect(below.pending).toBeNull();
    const at = noteCall(below, call('ls'), 'shell ls');
    expect(at.pending?.kind).toBe('repeated_call');
    expect(at.pending?.evidence).toContain('shell ls');
    expect(at.calls).toEqual([]); // a new window starts
  });

  it('counts only within the last WATCHDOG_WINDOW calls', () => {
    const run = (fillers: number) =>
      calls(newWatchdog(), [call('ls'), ...times(fillers, (i) => call(`echo ${i}`)), ...times(REPEATED_CALL_THRESHOLD - 1, () => call('ls'))]);
    // the first `ls` is the oldest call of the window: still counted
    expect(run(WATCHDOG_WINDOW - REPEATED_CALL_THRESHOLD).pending?.kind).toBe('repeated_call');
    // one call more and it has left the window
    expect(run(WATCHDOG_WINDOW - REPEATED_CALL_THRESHOLD + 1).pending).toBeNull();
  });

  it('the same arguments with a different output are not a repeat (tests rerun after edits)', () => {
    const w = calls(
      newWatchdog(),
      times(10, (i) => call('npm test', true, `out${i}`)),
    );
    expect(w.pending).toBeNull();
  });

  it('flags the same failing call at its lower threshold, not one below', () => {
    const below = calls(
      newWatchdog(),
      times(REPEATED_FAILURE_THRESHOLD - 1, () => call('false', true)),
    );
    expect(below.pending).toBeNull();
    const at = noteCall(below, call('false', true), 'shell false');
    expect(at.pending?.kind).toBe('failing_command');
    expect(at.pending?.evidence).toMatch(/failed the same way 3 times/);
  });

  it('without a fingerprint (results of older workers) name and arguments decide', () => {
    const w = calls(
      newWatchdog(),
      times(REPEATED_CALL_THRESHOLD, () => ({ name: 'read_file', arguments: '{"path":"a"}', failed: false })),
    );
    expect(w.pending?.kind).toBe('repeated_call');
  });
});

describe('convergence watchdog: plan churn', () => {
  const plan = (n: number, done = 0): PlanStep[] =>
    times(n, (i) => ({ step: `step ${i}`, status: i < done ? 'completed' : i === done ? 'in_progress' : 'pending' }));

  it('flags plan changes without a completed step at the threshold, not one below', () => {
    let w = newWatchdog();
    for (let i = 1; i < PLAN_CHURN_THRESHOLD; i++) w = notePlan(w, plan(i + 1));
    expect(w.pending).toBeNull();
    expect(w.planChurn).toBe(PLAN_CHURN_THRESHOLD - 1);
    w = notePlan(w, plan(PLAN_CHURN_THRESHOLD + 1));
    expect(w.pending?.kind).toBe('plan_churn');
    expect(w.planChurn).toBe(0);
  });

  it('a plan rewritten each time with the previous step completed is progress, not churn', () => {
    let w = newWatchdog();
    for (let turn = 1; turn <= 20; turn++) {
      w = notePlan(w, [
        { step: `turn ${turn - 1}`, status: 'completed' },
        { step: `turn ${turn}`, status: 'in_progress' },
      ]);
      expect(w.pending).toBeNull();
    }
    expect(w.planChurn).toBe(0);
    // The same completed step again, with other pending steps, is churn.
    for (let i = 0; i < 6; i++)
      w = notePlan(w, [
        { step: 'turn 19', status: 'completed' },
        { step: `retry ${i}`, status: 'in_progress' },
      ]);
    expect(w.pending?.kind).toBe('plan_churn');
  });

  it('an identical plan is not churn; a newly completed step resets it and forgives an escalation', () => {
    let w = notePlan(newWatchdog(), plan(3));
    for (let i = 0; i < 10; i++) w = notePlan(w, plan(3));
    expect(w.planChurn).toBe(1);
    w = { ...w, escalations: 1, escalatedKind: 'repeated_call' };
    w = notePlan(w, plan(3, 1));
    expect(w).toMatchObject({ planChurn: 0, planDone: 1, escalations: 0, escalatedKind: null });
  });
});

describe('convergence watchdog: verification rounds', () => {
  it('flags rounds sharing a normalized reason at the threshold, not one below', () => {
    let w = newWatchdog();
    for (let i = 0; i < VERIFICATION_REPEAT_THRESHOLD - 1; i++)
      w = noteVerification(w, fail([`Test ${i + 3} fails: missing README.`, `other ${'x'.repeat(i)}y`]));
    expect(w.pending).toBeNull();
    w = noteVerification(w, fail(['test 42 FAILS — missing readme']));
    expect(w.pending?.kind).toBe('verification_repeats');
    expect(w.pending?.evidence).toContain('"test # fails missing readme"');
  });

  it('a pass or a round with no shared reason restarts the count', () => {
    let w = noteVerification(newWatchdog(), fail(['a']));
    w = noteVerification(w, fail(['a']));
    expect(noteVerification(noteVerification(w, { overall: 'pass', verdicts: [] }), fail(['a'])).verifyRounds).toBe(1);
    const other = noteVerification(w, fail(['b']));
    expect(other).toMatchObject({ verifyRounds: 1, verifyReasons: ['b'], pending: null });
  });

  it('normalizes case, numbers and punctuation', () => {
    expect(normalizeReason('  Line 12:  "x" is WRONG!! ')).toBe('line # x is wrong');
    expect(normalizeReason('a'.repeat(500))).toHaveLength(160);
  });
});

describe('convergence watchdog: escalation', () => {
  const signal = (w: WatchdogState): WatchdogState =>
    calls(
      w,
      times(REPEATED_FAILURE_THRESHOLD, () => call('false', true)),
    );

  it('escalates first, pauses when the same signal comes again, and starts afresh after the pause', () => {
    const first = decide(signal(newWatchdog()));
    expect(first.next).toMatchObject({ action: 'escalate', signal: { kind: 'failing_command' } });
    expect(first.state).toMatchObject({ pending: null, escalations: 1, escalatedKind: 'failing_command' });
    // one window is not enough for the second signal
    expect(
      calls(
        first.state,
        times(REPEATED_FAILURE_THRESHOLD - 1, () => call('false', true)),
      ).pending,
    ).toBeNull();
    const second = decide(signal(first.state));
    expect(second.next.action).toBe('pause');
    expect(second.state).toEqual(newWatchdog());
  });

  it('a different signal escalates again, up to MAX_ESCALATIONS; then any signal pauses', () => {
    let w = decide(signal(newWatchdog())).state;
    let kinds = 1;
    const other = (s: WatchdogState, i: number) =>
      calls(
        s,
        times(REPEATED_CALL_THRESHOLD, () => call(`ls ${i}`)),
      );
    for (; kinds < MAX_ESCALATIONS; kinds++) {
      const d = decide(kinds % 2 ? other(w, kinds) : signal(w));
      expect(d.next.action).toBe('escalate');
      w = d.state;
    }
    expect(decide(other(w, 99)).next.action).toBe('pause');
  });

  it('nothing pending: nothing to do', () => {
    expect(decide(newWatchdog()).next).toEqual({ action: 'none' });
  });

  it('hash is stable and spreads', () => {
    expect(hash('abc')).toBe(hash('abc'));
    expect(hash('abc')).not.toBe(hash('abd'));
    expect(hash('')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('tool output digest (what the watchdog sees of an output)', () => {
  it('a shell result: failed by its exit code, fingerprint without its duration', async () => {
    const { finalizeToolOutput, errorResult, shellResult, textResult } = await import('../../src/activities/tools/output');
    const run = (exit: number, secs: number, out = 'boom') => finalizeToolOutput(shellResult(out, { exit_code: exit, duration_seconds: secs })).digest;
    expect(run(3, 0.1)).toEqual(run(3, 2.5));
    expect(run(3, 0.1).failed).toBe(true);
    expect(run(0, 0.1).failed).toBe(false);
    expect(run(3, 0.1).fingerprint).not.toBe(run(2, 0.1).fingerprint);
    expect(run(3, 0.1).fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(finalizeToolOutput(errorResult('no such file')).digest.failed).toBe(true);
    expect(finalizeToolOutput(textResult('Success. Updated the following files:\nA a.txt')).digest.failed).toBe(false);
  });
});
