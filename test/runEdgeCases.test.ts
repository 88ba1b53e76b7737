import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors';
import type { RecordedRequest } from './support/fakeModel';
import { uniqueId, useHarness } from './support/harness';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, say, shell, signal, tools, verdict } from './support/replies';

function lastUserText(req: RecordedRequest): string {
  const input = req.body.input as { role?: string; content?: string }[];
  return input.filter((i) => i.role === 'user').pop()?.content ?? '';
}

/** The orchestrator's instructions (continuation, corrections, …) go as developer messages. */
function lastDeveloperText(req: RecordedRequest): string {
  const input = req.body.input as { role?: string; content?: string }[];
  return input.filter((i) => i.role === 'developer').pop()?.content ?? '';
}

function userCount(req: RecordedRequest): number {
  return (req.body.input as { role?: string }[]).filter((i) => i.role === 'user').length;
}

describe('inftyRun orchestration rules', () => {
  const t = useHarness<RoleScriptResponder>();

  it('a run id whose directory another execution made: the new run fails at once, saying so, and leaves that directory alone', async () => {
    t.responder = scriptByRole({ solver: [deliver('deliverable')] });
    const runId = uniqueId('taken');
    const runDir = join(t.h.runsRoot, runId);
    const foreign = JSON.stringify({ run_id: runId, status: 'delivered', workflow_run_id: 'another-execution' });
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'run.json'), foreign);
    const started = Date.now();
    const { outcome } = await t.h.run({ runId, objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/already exists at .*; choose another run id/);
    // Not retried (RunAlreadyExists is final: five attempts would take 15 s), no model call made.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(t.h.model.requests.filter((r) => r.runId === runId)).toEqual([]);
    expect(readFileSync(join(runDir, 'run.json'), 'utf8')).toBe(foreign);
  });

  it('an objective change and a pause sent as the run starts (racing its creation): both take effect; no model call starts while paused', async () => {
    t.responder = scriptByRole({ solver: [tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] });
    const runId = uniqueId('race');
    const requests = () => t.h.model.requests.filter((r) => r.runId === runId);
    await t.h.infty.startRun({ runId, objective: 'First objective', verifiers: [], sandbox: 'none' });
    // Neither waits for the run to exist: they reach the workflow while its first task creates it, or just after.
    const [changed, paused] = await Promise.all([t.h.infty.setGoal(runId, { objective: 'Second objective' }), t.h.infty.setGoal(runId, { status: 'paused' })]);
    expect(changed.objective).toBe('Second objective');
    expect(paused.status).toBe('paused');
    // The first model step is scheduled by the task that creates the run, before any update can be
    // seen (docs/behaviour.md §5.4): at most that one call is made; the next (the delivery) is not.
    await new Promise((r) => setTimeout(r, 1500));
    expect(requests().length).toBeLessThanOrEqual(1);
    expect((await t.h.infty.goal(runId)).status).toBe('paused');
    const runJson = () => JSON.parse(readFileSync(join(t.h.runsRoot, runId, 'run.json'), 'utf8')) as { objective: string; status: string };
    expect(runJson()).toMatchObject({ objective: 'Second objective', status: 'running' });

    await t.h.infty.setGoal(runId, { status: 'active' });
    const outcome = await t.h.infty.result(runId);
    expect(outcome.status).toBe('delivered');
    // The Solver heard the new objective, and run.json kept it.
    expect(requests().some((r) => JSON.stringify(r.body.input).includes('Second objective'))).toBe(true);
    expect(runJson().objective).toBe('Second objective');
  });

  it('fails the run with a director timeout when the Director is silent', async () => {
    t.responder = scriptByRole({
      solver: [askDirection('help?')],
      director: [{ kind: 'fault', fault: { kind: 'hang' } }],
    });
    const { outcome } = await t.h.run({ objective: 'x', verifiers: [], directorTimeoutSecs: 1 });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/Director did not reply within 1 s/);
  });

  it('the Director timeout counts active time only: a pause longer than the timeout does not fail the run', async () => {
    t.responder = scriptByRole({
      solver: [askDirection('help?'), tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')],
      director: [{ ...tools({ name: 'list_dir', arguments: { path: '.' } }), latencyMs: 800 }, directive('go')],
    });
    const runId = uniqueId('pause-director');
    await t.h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', directorTimeoutSecs: 3 });
    while (!t.h.model.requests.some((r) => r.runId === runId && r.role === 'director')) await new Promise((r) => setTimeout(r, 50));
    await t.h.infty.pause(runId);
    await new Promise((r) => setTimeout(r, 5_000));
    expect(t.h.model.requests.filter((r) => r.runId === runId && r.role === 'director')).toHaveLength(1);
    await t.h.infty.resume(runId);
    expect((await t.h.infty.result(runId)).status).toBe('delivered');
  });

  it('gives the Director one corrective retry for an invalid reply, then fails', async () => {
    t.responder = scriptByRole({
      solver: [askDirection('help?')],
      director: [say('not json'), say('{"rationale":"no directive"}')],
    });
    const { outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/not a valid directive after one corrective retry/);
    const second = t.h.model.requestsFor('director').slice(-1)[0]!;
    expect(lastDeveloperText(second)).toMatch(/could not be used: reply is not a JSON object/);
  });

  it('rotates verifiers: a passing one starts fresh, a failing one keeps its context', async () => {
    t.responder = scriptByRole({
      solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt'), deliver('deliverable/a.txt')],
      'verifier-alpha': [verdict('pass', ['good']), verdict('pass')],
      'verifier-beta': [verdict('fail', ['missing b'], ['add b']), verdict('pass')],
    });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: ['verifier-alpha', 'verifier-beta'] });
    expect(outcome.status).toBe('delivered');
    const alpha = t.h.model.requestsFor('verifier-alpha').filter((r) => r.runId === runId);
    const beta = t.h.model.requestsFor('verifier-beta').filter((r) => r.runId === runId);
    expect(userCount(alpha[1]!)).toBe(1); // fresh conversation
    expect(alpha[1]!.body.input).toHaveLength(1);
    expect(userCount(beta[1]!)).toBe(2); // remembers its objection
    expect(beta[1]!.body.input.some((i: { content?: string }) => i.content?.includes('missing b'))).toBe(true);
    // The Solver got the failing aggregate.
    const solverReqs = t.h.model.requestsFor('solver').filter((r) => r.runId === runId);
    const feedback = JSON.parse(lastUserText(solverReqs[2]!));
    expect(feedback).toMatchObject({ type: 'verification_feedback', overall: 'fail' });
    expect(feedback.verdicts).toHaveLength(2);
    const runJson = JSON.parse(readFileSync(join(t.h.runsRoot, runId, 'run.json'), 'utf8'));
    const alphaRole = runJson.roles.find((r: { role: string }) => r.role === 'verifier-alpha');
    // The fresh conversation alpha would start after passing is never written: run.json names the last one that exists.
    expect(alphaRole.rollout_path).toMatch(/verifier-alpha\.1\.jsonl$/);
    expect(existsSync(alphaRole.rollout_path)).toBe(true);
    expect(existsSync(join(t.h.home, 'transcripts', runId, 'verifier-alpha.jsonl'))).toBe(true);
  });

  it('refuses deliverables outside the run directory, missing ones and symlink escapes; the run goes on', async () => {
    t.responder = scriptByRole({
      solver: [
        deliver('../outside.txt'),
        deliver('deliverable/missing.txt'),
        tools(shell('ln -s /etc deliverable/etc-link')),
        deliver('deliverable/etc-link'),
        tools(addFile('deliverable/ok.txt', ['ok'])),
        deliver('deliverable/ok.txt'),
      ],
      verifier: [verdict('pass')],
    });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: ['verifier'], maxConsecutiveErrors: 5 });
    expect(outcome.status).toBe('delivered');
    const solverReqs = t.h.model.requestsFor('solver').filter((r) => r.runId === runId);
    expect(lastDeveloperText(solverReqs[1]!)).toMatch(/not accepted: deliverable_path "..\/outside.txt" is outside the run directory/);
    expect(lastDeveloperText(solverReqs[2]!)).toMatch(/does not exist/);
    expect(lastDeveloperText(solverReqs[4]!)).toMatch(/outside the run directory.*symlink/);
    // No verifier round was spent on the invalid ones.
    expect(t.h.model.requestsFor('verifier').filter((r) => r.runId === runId)).toHaveLength(1);
  });

  it('fails after three invalid deliveries in a row', async () => {
    t.responder = scriptByRole({ solver: [deliver('/etc/passwd'), deliver('nope'), deliver('nope2')] });
    const { outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/3 invalid deliveries in a row/);
  });

  it('answers a malformed signal with the validation error and the schema, and recovers', async () => {
    t.responder = scriptByRole({
      solver: [
        signal({ type: 'final_delivery', deliverable_path: '  ' }),
        say('```json\n{"type":"direction_request","prompt":null,"deliverable_path":null,"summary":null}\n```'),
        tools(addFile('deliverable/r.md', ['r'])),
        deliver('deliverable/r.md'),
      ],
    });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const solverReqs = t.h.model.requestsFor('solver').filter((r) => r.runId === runId);
    expect(lastDeveloperText(solverReqs[1]!)).toMatch(/deliverable_path: final_delivery needs a non-blank "deliverable_path"/);
    expect(lastDeveloperText(solverReqs[1]!)).toContain('"additionalProperties":false');
    expect(lastDeveloperText(solverReqs[2]!)).toMatch(/prompt: direction_request needs a non-blank "prompt"/);
  });

  it('fails after three malformed signals in a row', async () => {
    t.responder = scriptByRole({ solver: [say('{not json'), say('{"type":"final_delivery"}'), say('{"type":"final_delivery"}')] });
    const { outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/3 malformed signals in a row/);
  });

  it('refuses tool path arguments that escape the run directory', async () => {
    t.responder = scriptByRole({
      solver: [
        tools({ name: 'read_file', arguments: { path: '../../../etc/passwd' } }, addFile('../escape.txt', ['x'])),
        tools(addFile('deliverable/d.txt', ['d'])),
        deliver('deliverable/d.txt'),
      ],
    });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const second = t.h.model.requestsFor('solver').filter((r) => r.runId === runId)[1]!;
    const outputs = second.body.input.filter((i: { type?: string }) => i.type === 'function_call_output').map((i: { output: string }) => i.output);
    expect(outputs[0]).toMatch(/outside the run directory/);
    expect(outputs[1]).toMatch(/outside the run directory|relative/);
    expect(existsSync(join(t.h.runsRoot, 'escape.txt'))).toBe(false);
  });

  it('idle Solver: continuation, then finalization with the final-delivery-only schema, then a stalled pause', async () => {
    t.responder = scriptByRole({
      solver: [say('thinking...'), say('still thinking'), say('hmm'), tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')],
    });
    const runId = uniqueId('idle');
    await t.h.infty.startRun({ runId, objective: 'Do <it> & more', verifiers: [], sandbox: 'none' });
    for (let i = 0; i < 100; i++) {
      const g = await t.h.infty.goal(runId);
      if (g.status === 'paused') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const goal = await t.h.infty.goal(runId);
    expect(goal.status).toBe('paused');
    expect(goal.statusReason).toMatch(/^stalled/);
    const reqs = t.h.model.requestsFor('solver').filter((r) => r.runId === runId);
    expect(reqs).toHaveLength(3);
    expect(lastDeveloperText(reqs[1]!)).toContain('<untrusted_objective>\nDo &lt;it&gt; &amp; more\n</untrusted_objective>');
    expect(reqs[1]!.body.text.format.name).toBe('solver_signal');
    expect(reqs[2]!.body.text.format.name).toBe('solver_final');
    await t.h.infty.steer(runId, 'Write deliverable/x.txt and deliver it.');
    await t.h.infty.resume(runId);
    const outcome = await t.h.infty.result(runId);
    expect(outcome.status).toBe('delivered');
    const after = t.h.model.requestsFor('solver').filter((r) => r.runId === runId)[3]!;
    // The continuation prompt (developer), then the steering message (user).
    const [prompt, steering] = (after.body.input as { role?: string; content?: string }[]).filter((i) => i.role).slice(-2);
    expect(prompt).toMatchObject({ role: 'developer' });
    expect(prompt!.content).toContain('untrusted_objective');
    expect(steering).toEqual(expect.objectContaining({ role: 'user', content: 'Write deliverable/x.txt and deliver it.' }));
  });

  it('when model retries run out the run is paused with the reason; resuming after the endpoint recovers completes it', async () => {
    let broken = true;
    const healthy = scriptByRole({ solver: [tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] });
    t.responder = Object.assign(
      (req: RecordedRequest) => (broken ? { kind: 'fault' as const, fault: { kind: 'http' as const, status: 503, message: 'upstream down' } } : healthy(req)),
      { remaining: () => 0 },
    );
    const runId = uniqueId('faulty');
    await t.h.infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none', modelMaxAttempts: 2, modelRetryInitialSecs: 0.2 });
    for (let i = 0; i < 100 && (await t.h.infty.goal(runId)).status !== 'paused'; i++) await new Promise((r) => setTimeout(r, 100));
    const goal = await t.h.infty.goal(runId);
    expect(goal.status).toBe('paused');
    expect(goal.statusReason).toMatch(/model endpoint failing \(the model endpoint failed \(HTTP 503\).*upstream down/);
    expect(t.h.model.requests.filter((r) => r.runId === runId)).toHaveLength(2);
    broken = false;
    await t.h.infty.resume(runId);
    expect((await t.h.infty.result(runId)).status).toBe('delivered');
  });

  it('a 401 from the model fails the run at once with the reason', async () => {
    t.responder = Object.assign(() => ({ kind: 'fault' as const, fault: { kind: 'http' as const, status: 401, message: 'Incorrect API key provided' } }), {
      remaining: () => 0,
    });
    const t0 = Date.now();
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/refused the credentials \(HTTP 401\).*Incorrect API key provided.*OPENAI_API_KEY/);
    expect(t.h.model.requests.filter((r) => r.runId === runId)).toHaveLength(1);
  });

  it('refuses a duplicate run id and starts nothing', async () => {
    t.responder = scriptByRole({ solver: [tools(addFile('deliverable/x.txt', ['x'])), deliver('deliverable/x.txt')] });
    const { runId } = await t.h.run({ objective: 'x', verifiers: [] });
    await expect(t.h.infty.startRun({ runId, objective: 'again' })).rejects.toThrow(UsageError);
    await expect(t.h.infty.startRun({ runId, objective: 'again' })).rejects.toThrow(/already exists/);
  });

  it('refuses invalid run ids, objectives and budgets before starting anything', async () => {
    await expect(t.h.infty.startRun({ runId: '.bad', objective: 'x' })).rejects.toThrow(/must not start or end with '.'/);
    await expect(t.h.infty.startRun({ runId: 'a b', objective: 'x' })).rejects.toThrow(/may only contain/);
    await expect(t.h.infty.startRun({ runId: uniqueId('ok'), objective: '   ' })).rejects.toThrow(/objective must not be empty/);
    await expect(t.h.infty.startRun({ runId: uniqueId('ok'), objective: 'x'.repeat(4001) })).rejects.toThrow(/at most 4000/);
    await expect(t.h.infty.startRun({ runId: uniqueId('ok'), objective: 'x', tokenBudget: 0 })).rejects.toThrow(
      /token budget must be a positive whole number of tokens, or "none" for no budget; got 0/,
    );
    await expect(t.h.infty.startRun({ runId: uniqueId('ok'), objective: 'x', tokenBudget: 1.5 })).rejects.toThrow(/whole number/);
  });
});
