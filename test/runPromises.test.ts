/**
 * Orchestration promises at their edges: signals the reference documents, the malformed-signal
 * streak, finalization turns that work, rotation after a compaction was due, endpoint trouble
 * during compaction, goals of ended runs, the deliverable report, the per-turn step bound.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, say, shell, tools, verdict, withUsage } from './support/replies';
import { until } from './support/wait';

const userTexts = (req: RecordedRequest, role: 'user' | 'developer' = 'user'): string[] =>
  (req.body.input as { role?: string; content?: string }[]).filter((i) => i.role === role).map((i) => i.content ?? '');

describe('orchestration promises at their edges', () => {
  let h: Harness;
  let responder: Responder;
  const requestsOf = (runId: string, role?: string) => h.model.requests.filter((r) => r.runId === runId && (!role || r.role === role));

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('malformed replies separated by ordinary ones do not make "three in a row"', async () => {
    responder = scriptByRole({
      solver: [
        say('{oops'),
        say('thinking'),
        say('{oops'),
        say('thinking'),
        say('{oops'),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const { outcome } = await h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
  });

  it("accepts the reference's documented signal shape without a prompt key, and an inline fence", async () => {
    responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/a.txt', ['a'])),
        say('{"type":"final_delivery","deliverable_path":"deliverable/a.txt","summary":"documented shape"}'),
      ],
    });
    const first = await h.run({ objective: 'x', verifiers: [] });
    expect(first.outcome.status === 'delivered' && first.outcome.summary).toBe('documented shape');
    responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/a.txt', ['a'])),
        say('```json {"type":"final_delivery","deliverable_path":"deliverable/a.txt","summary":"inline fence"}```'),
      ],
    });
    const second = await h.run({ objective: 'x', verifiers: [] });
    expect(second.outcome.status === 'delivered' && second.outcome.summary).toBe('inline fence');
  });

  it('a finalization turn that does the work with tools and ends in prose gets the instruction again, not a stalled pause', async () => {
    responder = scriptByRole({
      solver: [say('hmm'), say('hmm'), tools(addFile('deliverable/a.txt', ['a'])), say('assembled the deliverable'), deliver('deliverable/a.txt')],
    });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const kinds = (await h.infty.progress(runId)).events.map((e) => e.kind);
    expect(kinds).not.toContain('paused');
    expect(kinds.filter((k) => k === 'finalization')).toHaveLength(2);
  });

  it('a Verifier rotated after a passing round starts fresh with its instructions even when a compaction was due', async () => {
    const big = { inputTokens: 9_000, cachedInputTokens: 0, outputTokens: 10 };
    responder = scriptByRole({
      solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt'), deliver('deliverable/a.txt')],
      'verifier-alpha': [withUsage(verdict('pass'), big), verdict('pass')],
      'verifier-beta': [verdict('fail', ['not yet']), verdict('pass')],
    });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: ['verifier-alpha', 'verifier-beta'], autoCompactLimit: 5_000 });
    expect(outcome.status).toBe('delivered');
    const alpha = requestsOf(runId, 'verifier-alpha');
    expect(alpha.filter((r) => r.purpose === 'compaction')).toHaveLength(0);
    const second = alpha.filter((r) => r.purpose === 'turn')[1]!;
    expect(second.body.instructions).toMatch(/verif/i);
    expect(second.body.input).toHaveLength(1); // a fresh conversation: only the request
  });

  it('an endpoint failing during compaction holds the run with the reason; resuming after it recovers completes the run', async () => {
    let compactionHealthy = false;
    let step = 0;
    responder = (req) => {
      if (req.purpose === 'compaction') {
        return compactionHealthy ? say('summary') : { kind: 'fault', fault: { kind: 'http', status: 503, message: 'compactor down' } };
      }
      step += 1;
      if (step === 1) return withUsage(tools(addFile('deliverable/a.txt', ['a'])), { inputTokens: 9_000 });
      return deliver('deliverable/a.txt');
    };
    const runId = uniqueId('compaction-down');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', autoCompactLimit: 5_000, modelMaxAttempts: 2, modelRetryInitialSecs: 0.1 });
    const goal = await until('the run to be held', async () => {
      const g = await h.infty.goal(runId);
      return g.status === 'paused' ? g : undefined;
    });
    expect(goal.statusReason).toMatch(/compactor down/);
    compactionHealthy = true;
    await h.infty.resume(runId);
    expect((await h.infty.result(runId)).status).toBe('delivered');
  });

  it('a failed or cancelled run never leaves its goal active (nor its search attribute)', async () => {
    responder = scriptByRole({ solver: [say('{oops'), say('{oops'), say('{oops')] });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('failed');
    const goal = await h.infty.goal(runId);
    expect(goal.status).toBe('paused');
    expect(goal.statusReason).toMatch(/ended failed/);
    const described = await h.client.workflow.getHandle(runId).describe();
    expect(described.searchAttributes.InftyGoalStatus).toEqual(['paused']);

    responder = () => tools(shell('sleep 30'));
    const cancelled = uniqueId('cancel-goal');
    await h.infty.startRun({ runId: cancelled, objective: 'x', verifiers: [], sandbox: 'none' });
    await until('a command to run', async () => ((await h.infty.progress(cancelled)).events.some((e) => e.kind === 'tool_call') ? true : undefined));
    await h.infty.cancel(cancelled);
    await h.infty.result(cancelled).catch(() => undefined);
    expect((await h.infty.goal(cancelled)).status).not.toBe('active');
  });

  it("reports the deliverable's size and sha256 in the outcome", async () => {
    responder = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['hello'])), deliver('deliverable/a.txt')] });
    const { outcome } = await h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status === 'delivered' && outcome.deliverable).toEqual({
      kind: 'file',
      size: 6,
      sha256: createHash('sha256').update('hello\n').digest('hex'),
    });
  });

  it('maxStepsPerTurn bounds a turn: the last allowed step may not call tools, and calls it makes anyway are not run', async () => {
    let step = 0;
    responder = () => {
      step += 1;
      if (step <= 3) return tools(shell(`echo step${step} >> log.txt`));
      return step === 4 ? tools(addFile('deliverable/a.txt', ['a'])) : deliver('deliverable/a.txt');
    };
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: [], maxStepsPerTurn: 3 });
    expect(outcome.status).toBe('delivered');
    const reqs = requestsOf(runId);
    expect(reqs[0]!.body.tool_choice).not.toBe('none');
    expect(reqs[2]!.body.tool_choice).toBe('none');
    const progress = await h.infty.progress(runId);
    expect(progress.events.some((e) => e.kind === 'turn_cut')).toBe(true);
    expect(progress.roles.solver!.toolCalls).toBeGreaterThanOrEqual(3);
    expect(userTexts(reqs[3]!, 'developer').some((t) => t.startsWith('# Continue working'))).toBe(true);
  });

  for (const wireApi of ['responses', 'chat'] as const) {
    it(`a ${wireApi} reply cut at the output-token limit continues the turn instead of ending it`, async () => {
      const cut = await startHarness({
        wireApi,
        responder: scriptByRole({
          solver: [
            { kind: 'message', text: 'I will now write the fi', incomplete: 'max_output_tokens' },
            tools(addFile('deliverable/a.txt', ['a'])),
            deliver('deliverable/a.txt'),
          ],
          director: [],
        }),
      });
      try {
        const { runId, outcome } = await cut.run({ objective: 'x', verifiers: [] });
        expect(outcome.status).toBe('delivered');
        const reqs = cut.model.requests.filter((r) => r.runId === runId);
        const second = JSON.stringify(reqs[1]!.body);
        expect(second).toContain('Your reply was cut off');
        expect(second).toContain('I will now write the fi'); // the partial text stays in the conversation
        const kinds = (await cut.infty.progress(runId)).events.map((e) => e.kind);
        expect(kinds).toContain('output_cut');
        expect(kinds).not.toContain('continuation'); // not treated as an idle turn
      } finally {
        await cut.close();
      }
    });
  }

  it('steering messages are bounded: a megabyte message reaches the Solver cut and marked', async () => {
    const gate: { open?: () => void } = {};
    let step = 0;
    responder = async () => {
      step += 1;
      if (step === 1) {
        await new Promise<void>((r) => (gate.open = r));
        return tools(addFile('deliverable/a.txt', ['a']));
      }
      return deliver('deliverable/a.txt');
    };
    const runId = uniqueId('steer-big');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    await until('first request', () => gate.open);
    await h.infty.steer(runId, 'y'.repeat(1_000_000));
    gate.open!();
    expect((await h.infty.result(runId)).status).toBe('delivered');
    const steered = userTexts(requestsOf(runId)[1]!).find((t) => t.startsWith('yyy'))!;
    expect(steered.length).toBeLessThan(20_000);
    expect(steered).toMatch(/characters of this message were cut/);
  });
});

describe('a worker without model credentials', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ responder: () => say('unreachable'), endpoint: { baseURL: undefined, apiKey: undefined } });
  });
  afterAll(async () => h?.close());

  it('holds the run with what to set, instead of failing it', async () => {
    const runId = uniqueId('no-key');
    await h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
    const goal = await until('the run to be held', async () => {
      const g = await h.infty.goal(runId);
      return g.status === 'paused' ? g : undefined;
    });
    expect(goal.statusReason).toMatch(/OPENAI_API_KEY/);
    expect((await h.infty.progress(runId)).status).toBe('running');
    await h.infty.cancel(runId);
  });
});
