import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCompaction } from '../src/fakeModel/compactWire';
import { estimateInputTokens, type RecordedRequest, type Responder, type ScriptedReply } from './support/fakeModel';
import { type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { prefixViolation, segmentsBetweenCompactions } from './support/prefix';
import { deliver, say, shell, tools, verdict } from './support/replies';

const summary = (req: RecordedRequest): ScriptedReply => say(`Summary of ${req.body.input.length} items: kept working on the objective.`);
const COMPACT = '/v1/responses/compact';
/** Requests of a run to the Responses (or Chat) endpoint itself, not to /responses/compact. */
const modelRequests = (h: Harness, runId: string) => h.model.requests.filter((r) => r.runId === runId && r.path !== COMPACT);

describe('the long-running agent loop (an endpoint without /responses/compact: local compaction)', () => {
  let h: Harness;
  let responder: Responder;

  beforeAll(async () => {
    // The endpoint answers /responses/compact 404, as servers without it do.
    h = await startHarness({ responder: (req) => (req.path === COMPACT ? { kind: 'error', status: 404, message: 'Not Found' } : responder(req)) });
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

    // The first compaction tried /responses/compact once; the endpoint is remembered, later ones go straight to the local prompt.
    expect(h.model.requests.filter((r) => r.path === COMPACT).map((r) => [r.runId, r.status])).toEqual([[runId, 'fault']]);
    const requests = modelRequests(h, runId);
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
    const summaryItem = afterCompaction.find((i) =>
      i.content?.startsWith(readFileSync(join(__dirname, '..', 'prompts', 'compact_summary_prefix.md'), 'utf8').trim()),
    );
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
    const seq = modelRequests(h, runId).map((r) => `${r.purpose}${r.status === 'fault' ? '!' : ''}`);
    expect(seq).toEqual(['turn', 'turn!', 'compaction', 'turn']);
    const last = modelRequests(h, runId).pop()!;
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
    const comp = modelRequests(h, runId).filter((r) => r.purpose === 'compaction');
    expect(comp.length).toBeGreaterThanOrEqual(2);
    expect(comp[1]!.body.input.length).toBeLessThan(comp[0]!.body.input.length);
    const progress = await h.infty.progress(runId);
    expect(progress.events.some((e) => e.kind === 'compaction' && /dropping \d+ oldest items/.test(e.message))).toBe(true);
  });
});

describe('remote compaction (an endpoint with /responses/compact)', () => {
  let h: Harness;
  let responder: Responder;

  beforeAll(async () => {
    h = await startHarness({ responder: (req) => responder(req), stream: false });
  });
  afterAll(async () => h?.close());

  it('compacts on the endpoint, keeps its compaction item in the new generation, and the next request starts from it', async () => {
    const runId = uniqueId('remote');
    let turns = 0;
    responder = (req) => {
      if (req.purpose === 'compaction') return { kind: 'message', text: `Remote summary ${req.seq}.`, usage: { inputTokens: 700, outputTokens: 50 } };
      turns += 1;
      return turns < 8 ? tools(shell(`echo ${turns}`)) : deliver('deliverable');
    };
    const { outcome } = await h.run({ runId, objective: 'Compact me remotely', verifiers: [], contextWindow: 1_000, autoCompactLimit: 500 });
    expect(outcome.status).toBe('delivered');

    const requests = h.model.requests.filter((r) => r.runId === runId);
    const compactions = requests.filter((r) => r.purpose === 'compaction');
    expect(compactions.length).toBeGreaterThanOrEqual(2);
    // Every compaction went to /responses/compact; no local summarization request was made.
    for (const c of compactions) expect([c.path, c.status, c.stream]).toEqual([COMPACT, 'completed', false]);
    expect(requests.filter((r) => r.path !== COMPACT).every((r) => r.purpose === 'turn')).toBe(true);

    // The turn after each compaction starts from the returned history: the user messages, then the compaction item.
    for (const c of compactions) {
      const next = requests.find((r) => r.seq > c.seq && r.purpose === 'turn')!;
      const item = next.body.input.findIndex((i: { type?: string }) => i.type === 'compaction');
      expect(next.body.input.slice(0, item)).toEqual([{ role: 'user', content: 'Compact me remotely' }]);
      expect(openCompaction(next.body.input[item].encrypted_content)).toBe(`Remote summary ${c.seq}.`);
    }
    // A later compaction sends the earlier compaction item back (the endpoint verifies it was issued by it).
    expect(compactions[1]!.body.input.filter((i: { type?: string }) => i.type === 'compaction')).toHaveLength(1);
    // Prefixes stay stable between compactions.
    for (const segment of segmentsBetweenCompactions(requests, 'solver', runId)) expect(prefixViolation(segment)).toBeUndefined();

    const progress = await h.infty.progress(runId);
    expect(progress.roles.solver!.compactions).toBe(compactions.length);
    const generation = readFileSync(join(h.home, 'transcripts', runId, `solver.${compactions.length}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(generation.filter((i) => i.type === 'compaction')).toHaveLength(1);
    expect(generation.find((i) => i.type === 'step_end')).toMatchObject({ usage: { inputTokens: 700, outputTokens: 50 } });
  });
});
