import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHarness } from './support/harness';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, shell, tools, verdict } from './support/replies';

describe('inftyRun routing on a real Temporal server', () => {
  const t = useHarness<RoleScriptResponder>();

  it('routes Solver → Director → Solver → Verifiers → delivered, with files written by tools', async () => {
    t.responder = scriptByRole({
      solver: [
        tools(addFile('deliverable/answer.txt', ['42']), shell('echo hello > artifacts/hello.txt')),
        askDirection('Which format?'),
        deliver('deliverable/answer.txt', 'the answer'),
      ],
      director: [directive('Use plain text.', 'simplest')],
      'verifier-alpha': [verdict('pass', ['ok'])],
      'verifier-beta': [verdict('pass', ['fine'])],
    });
    const { runId, outcome } = await t.h.run({ objective: 'Find the answer', verifiers: ['verifier-alpha', 'verifier-beta'] });
    expect(outcome).toMatchObject({ runId, status: 'delivered', summary: 'the answer' });
    if (outcome.status !== 'delivered') throw new Error('not delivered');
    expect(outcome.deliverablePath).toBe(join(t.h.runsRoot, runId, 'deliverable', 'answer.txt'));
    expect(readFileSync(outcome.deliverablePath, 'utf8')).toBe('42\n');
    expect(readFileSync(join(t.h.runsRoot, runId, 'artifacts', 'hello.txt'), 'utf8')).toBe('hello\n');
    // Every verdict is bound to the content hash it judged (docs/behaviour.md §3.3).
    const verifiedHash = createHash('sha256').update('42\n').digest('hex');
    expect(outcome.verification).toEqual({
      type: 'verification_feedback',
      overall: 'pass',
      verdicts: [
        { role: 'verifier-alpha', verdict: 'pass', reasons: ['ok'], suggestions: [], verifiedHash },
        { role: 'verifier-beta', verdict: 'pass', reasons: ['fine'], suggestions: [], verifiedHash },
      ],
      verifiedHash,
    });

    // The directive reached the Solver as the Director's JSON.
    const solverReqs = t.h.model.requestsFor('solver');
    const afterDirective = solverReqs[2]!.body.input;
    expect(afterDirective[afterDirective.length - 1]).toMatchObject({
      role: 'user',
      content: JSON.stringify({ directive: 'Use plain text.', rationale: 'simplest' }),
    });
    // Structured output schemas on every role's requests.
    expect(solverReqs[0]!.body.text.format.name).toBe('solver_signal');
    expect(t.h.model.requestsFor('director')[0]!.body.text.format.name).toBe('director_reply');
    expect(t.h.model.requestsFor('verifier-alpha')[0]!.body.text.format.name).toBe('verdict');
    // Headers and prompt cache key.
    expect(solverReqs[0]!.headers).toMatchObject({ 'x-infty-run-id': runId, 'x-infty-role': 'solver', 'x-infty-purpose': 'turn' });
    expect(solverReqs[0]!.body.prompt_cache_key).toBe(`${runId}:solver`);
    expect(solverReqs[0]!.body.store).toBe(false);
    // Verifiers get read-only tools only; the Solver gets all.
    expect(
      t.h.model
        .requestsFor('verifier-alpha')[0]!
        .body.tools.map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(['list_dir', 'read_file']);
    expect(solverReqs[0]!.body.tools.map((t: { name: string }) => t.name).sort()).toEqual(['apply_patch', 'list_dir', 'read_file', 'shell', 'update_plan']);

    // The passing aggregate reached the Solver too: it ends the Solver's transcript.
    const transcript = readFileSync(join(t.h.home, 'transcripts', runId, 'solver.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(transcript[transcript.length - 1]!)).toEqual({ type: 'message', role: 'user', text: JSON.stringify(outcome.verification) });

    const runJson = JSON.parse(readFileSync(join(t.h.runsRoot, runId, 'run.json'), 'utf8'));
    expect(runJson).toMatchObject({ run_id: runId, objective: 'Find the answer', status: 'delivered', sandbox: 'none' });
    expect(runJson.roles.map((r: { role: string }) => r.role)).toEqual(['solver', 'director', 'verifier-alpha', 'verifier-beta']);
    expect(runJson.roles[0].rollout_path).toBe(join(t.h.home, 'transcripts', runId, 'solver.jsonl'));
    expect(Date.parse(runJson.updated_at)).toBeGreaterThanOrEqual(Date.parse(runJson.created_at));
  });
});
