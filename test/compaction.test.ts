import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens, type RecordedRequest, type Responder, type ScriptedReply } from './support/fakeModel';
import { scriptByRole } from './support/modelScript';
import { startHarness, uniqueId, type Harness } from './support/harness';
import { deliver, say, shell, tools, verdict } from './support/replies';
import { prefixViolation, segmentsBetweenCompactions } from './support/prefix';

const summary = (req: RecordedRequest): ScriptedReply => say(`Summary of ${req.body.input.length} items: kept working on the objective.`);

describe('the long-running agent loop', () => {
  let h: Harness;
  let responder: Responder;

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req) });
  });
  afterAll(async () => h?.close());

  it('a 300-turn Solver conversation with large tool outputs compacts, stays under the context limit and keeps prompt-cache prefixes', async () => {
    const TURNS = 300;
    const CONTEXT = 40_000;
    const runId = uniqueId('long');
    let turn = 0;
    const verifierScript = scriptByRole({ 'verifier-alpha': [verdict('fail', ['add more'], ['more']), verdict('pass')] });
    responder = (req) => {
      if (req.purpose === 'compaction') return summary(req);
      if (req.role !== 'solver') return verifierScript(req);
      turn += 1;
      if (turn === 150) return deliver('deliverable', 'first try');
      if (turn >= TURNS) return deliver('deliverable', 'done');
      // ~12 KB of output per call: the recorded output is truncated to ~10 KB.
      return tools(shell(`head -c 12000 /dev/zero | tr '\\0' 'x'; echo; echo turn ${turn} > deliverable/turn.txt`));
    };
    await h.infty.startRun({ runId, objective: 'Grind through many turns', verifiers: ['verifier-alpha'], sandbox: 'none', contextWindow: CONTEXT });
    setTimeout(() => void h.infty.steer(runId, 'Steering: keep going, you are doing fine.'), 2_000);
    const outcome = await h.infty.result(runId);
    expect(outcome.status).toBe('delivered');

    const requests = h.model.requests.filter((r) => r.runId === runId);
    const solverTurns = requests.filter((r) => r.role === 'solver' && r.purpose === 'turn');
    const compactions = requests.filter((r) => r.role === 'solver' && r.purpose === 'compaction');
    expect(solverTurns).toHaveLength(TURNS);
    expect(compactions.length).toBeGreaterThanOrEqual(5);
    for (const r of requests) expect(estimateInputTokens(r.wire, r.body), `request ${r.seq}`).toBeLessThan(CONTEXT);

    const segments = segmentsBetweenCompactions(requests, 'solver', runId);
    expect(segments.length).toBe(compactions.length + 1);
    for (const segment of segments) expect(prefixViolation(segment)).toBeUndefined();

    // Tool outputs were truncated with a marker and the total line count.
    const firstOutput = solverTurns[1]!.body.input.find((i: { type?: string }) => i.type === 'function_call_output').output;
    const shellResult = JSON.parse(firstOutput);
    expect(/^Total output lines: \d+\n/.test(shellResult.output)).toBe(true);
    expect(/\[… \d+ bytes truncated …\]/.test(shellResult.output)).toBe(true);
    expect(firstOutput.length).toBeLessThan(11_000);

    // Steering and verification feedback reached the Solver without breaking prefixes (asserted above).
    const all = solverTurns.map((r) => JSON.stringify(r.body.input)).join('\n');
    expect(all).toContain('Steering: keep going');
    expect(all).toContain('verification_feedback');

    // A rebuilt history: instructions, the recent user messages, then the prefixed summary.
    const afterCompaction = segments[1]![0]!.body.input as { role?: string; content?: string }[];
    const summaryItem = afterCompaction.find((i) => i.content?.startsWith(readFileSync(join(__dirname, '..', 'prompts', 'compact_summary_prefix.md'), 'utf8').trim()));
    expect(summaryItem?.content).toMatch(/Summary of \d+ items/);
    expect(afterCompaction[0]).toMatchObject({ role: 'user', content: 'Grind through many turns' });
    expect(compactions[0]!.headers['x-infty-purpose']).toBe('compaction');
    // Compaction requests share the turns' cached prefix: same instructions and tools, history extended.
    const beforeFirst = solverTurns.filter((r) => r.seq < compactions[0]!.seq).pop()!;
    expect(compactions[0]!.body.tools).toEqual(beforeFirst.body.tools);
    expect(compactions[0]!.body.tool_choice).toBe('none');
    expect(compactions[0]!.body.instructions).toBe(beforeFirst.body.instructions);
    expect(compactions[0]!.body.input.slice(0, beforeFirst.body.input.length)).toEqual(beforeFirst.body.input);

    const progress = await h.infty.progress(runId);
    expect(progress.roles.solver!.compactions).toBe(compactions.length);
    expect(progress.roles.solver!.generation).toBe(compactions.length);
    const transcripts = readdirSync(join(h.home, 'transcripts', runId)).filter((f) => f.startsWith('solver') && f.endsWith('.jsonl'));
    expect(transcripts).toHaveLength(compactions.length + 1); // old generations kept for audit
    const runJson = JSON.parse(readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8'));
    expect(runJson.roles[0].rollout_path).toBe(join(h.home, 'transcripts', runId, `solver.${compactions.length}.jsonl`));
  }, 240_000);

  it('compacts and retries when the model refuses a request for its length', async () => {
    const runId = uniqueId('ctx');
    let refused = false;
    responder = (req) => {
      if (req.purpose === 'compaction') return summary(req);
      const outputs = req.body.input.filter((i: { type?: string }) => i.type === 'function_call_output').length;
      if (outputs === 0) return tools(shell('echo one'));
      if (!refused) {
        refused = true;
        return { kind: 'fault', fault: { kind: 'http', status: 400, code: 'context_length_exceeded' } };
      }
      return deliver('deliverable');
    };
    // After compaction the tool output is still answered: the pending call is carried into the new generation.
    const { outcome } = await h.run({ runId, objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const seq = h.model.requests.filter((r) => r.runId === runId).map((r) => `${r.purpose}${r.status === 'fault' ? '!' : ''}`);
    expect(seq).toEqual(['turn', 'turn!', 'compaction', 'turn']);
    const last = h.model.requests.filter((r) => r.runId === runId).pop()!;
    expect(last.body.input.map((i: { type?: string; role?: string }) => i.type ?? i.role)).toEqual(['user', 'user', 'function_call', 'function_call_output']);
  });

  it('drops the oldest items and retries when the compaction request itself is too long', async () => {
    const runId = uniqueId('ctx2');
    let compactionCalls = 0;
    let turns = 0;
    responder = (req) => {
      if (req.purpose === 'compaction') {
        compactionCalls += 1;
        return compactionCalls === 1 ? { kind: 'fault', fault: { kind: 'http', status: 400, code: 'context_length_exceeded' } } : summary(req);
      }
      turns += 1;
      return turns < 6 ? tools(shell(`echo ${turns}`)) : deliver('deliverable');
    };
    const { outcome } = await h.run({ runId, objective: 'x', verifiers: [], contextWindow: 1_000, autoCompactLimit: 600 });
    expect(outcome.status).toBe('delivered');
    const comp = h.model.requests.filter((r) => r.runId === runId && r.purpose === 'compaction');
    expect(comp.length).toBeGreaterThanOrEqual(2);
    expect(comp[1]!.body.input.length).toBeLessThan(comp[0]!.body.input.length);
    const progress = await h.infty.progress(runId);
    expect(progress.events.some((e) => e.kind === 'compaction' && /dropping \d+ oldest items/.test(e.message))).toBe(true);
  });
});
