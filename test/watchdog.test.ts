/**
 * The convergence watchdog on a real server (docs/behaviour.md §3.7): a Solver repeating the same
 * failing command is escalated to the Director, then paused with the evidence; resuming starts the
 * watchdog afresh. A Solver making varied progress is never flagged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPEATED_FAILURE_THRESHOLD } from '../src/workflows/watchdog';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, directive, shell, tools } from './support/replies';
import { until } from './support/wait';

const texts = (req: RecordedRequest): string[] => (req.body.input as { content?: unknown }[]).map((i) => (typeof i.content === 'string' ? i.content : ''));

describe('convergence watchdog', () => {
  let h: Harness;
  let responder: Responder;
  const requestsOf = (runId: string, role: string) => h.model.requests.filter((r) => r.runId === runId && r.role === role && r.purpose === 'turn');

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('a Solver repeating a failing command is escalated to the Director, then paused with the evidence; resume resets it', async () => {
    const failing = () => tools(shell('exit 3'));
    responder = scriptByRole({
      solver: [
        ...Array.from({ length: 2 * REPEATED_FAILURE_THRESHOLD }, failing),
        // after the resume: one more failure is not a new window, then the Solver delivers
        failing(),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
      director: [directive('Stop running `exit 3`; read the error first.', 'it keeps failing')],
    });
    const runId = uniqueId('watchdog');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });

    const goal = await until('the goal to pause', async () => {
      const g = await h.infty.goal(runId);
      return g.status === 'paused' ? g : undefined;
    });
    expect(goal.statusReason).toMatch(/^not_converging: the same call failed the same way 3 times/);
    expect(goal.statusReason).toContain('exit 3');

    // The escalation: a direction request with the evidence, and its directive back to the Solver.
    const director = requestsOf(runId, 'director');
    expect(director).toHaveLength(1);
    const request = texts(director[0]!).find((t) => t.includes('direction_request'))!;
    expect(request).toContain('convergence watchdog');
    expect(request).toContain('failed the same way 3 times');
    const afterEscalation = requestsOf(runId, 'solver')[REPEATED_FAILURE_THRESHOLD]!;
    expect(texts(afterEscalation).some((t) => t.includes('read the error first'))).toBe(true);

    const progress = await h.infty.progress(runId);
    const flagged = progress.events.filter((e) => e.kind === 'not_converging');
    expect(flagged).toHaveLength(2);
    expect(flagged[0]!.message).toMatch(/asking the Director/);
    expect(flagged[1]!.message).toMatch(/the goal is paused/);
    expect(progress.goal.statusReason).toBe(goal.statusReason);
    expect(progress.hold).toEqual({ kind: 'steer', reason: goal.statusReason });

    await h.infty.resume(runId);
    const outcome = await h.infty.result(runId);
    expect(outcome.status).toBe('delivered');
    const after = await h.infty.progress(runId);
    expect(after.events.filter((e) => e.kind === 'not_converging')).toHaveLength(2);
    expect(requestsOf(runId, 'director')).toHaveLength(1);
  });

  it('a Solver making varied progress is never flagged (the same command with changing output included)', async () => {
    let step = 0;
    responder = (req) => {
      if (req.role !== 'solver') throw new Error(`unexpected ${req.role} request`);
      step += 1;
      if (step <= 24) return tools(step % 2 ? shell(`echo ${step} >> log.txt`) : shell('cat log.txt'));
      if (step === 25 || step === 27) return tools(shell('test -e missing.txt'));
      if (step === 26)
        return tools({
          name: 'update_plan',
          arguments: {
            plan: [
              { step: 'log', status: 'completed' },
              { step: 'deliver', status: 'in_progress' },
            ],
          },
        });
      if (step === 28) return tools(addFile('deliverable/a.txt', ['a']));
      return deliver('deliverable/a.txt');
    };
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const progress = await h.infty.progress(runId);
    expect(progress.events.some((e) => e.kind === 'not_converging' || e.kind === 'paused')).toBe(false);
    expect(requestsOf(runId, 'director')).toHaveLength(0);
  });
});
