/**
 * Issue 12, items 2–4: per-role reasoning effort, developer messages for the orchestrator's
 * instructions, and changing the objective mid-run (client, `infty goal --objective`, temporal CLI).
 */

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStepInput } from '../src/protocol/activities';
import { MAX_OBJECTIVE_CHARS } from '../src/protocol/goal';
import { requireTemporalCli } from '../src/temporalCli';
import { runCli } from './support/cli';
import type { RecordedRequest, Responder } from './support/fakeModel';
import { gatedSolver } from './support/gatedSolver';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, say, shell, tools, verdict } from './support/replies';
import { until } from './support/wait';

const exec = promisify(execFile);

type InputMessage = { role?: string; content?: unknown };

/** The request's messages (Responses `input` items that have a role), content as text. */
function messages(req: RecordedRequest): { role: string; text: string }[] {
  return (req.body.input as InputMessage[])
    .filter((i) => typeof i.role === 'string')
    .map((i) => ({
      role: i.role!,
      text: typeof i.content === 'string' ? i.content : (i.content as { text?: string }[]).map((c) => c.text ?? '').join(''),
    }));
}

const lastMessage = (req: RecordedRequest) => messages(req).slice(-1)[0]!;

/** The modelStep inputs the workflow scheduled (what the workflow controls), from the run's history. */
async function modelStepInputs(h: Harness, runId: string): Promise<ModelStepInput[]> {
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name !== 'modelStep') return [];
    return [defaultPayloadConverter.fromPayload<ModelStepInput>(a.input!.payloads![0]!)];
  });
}

describe('per-role reasoning effort, developer messages, objective changes', () => {
  let h: Harness;
  let responder: Responder;
  let temporal: string;
  let env: Record<string, string>;
  const tctl = (args: string[]) => exec(temporal, [...args, '--address', h.address, '--namespace', 'default'], { timeout: 30_000 });
  const requestsOf = (runId: string, role?: string) => h.model.requests.filter((r) => r.runId === runId && (role === undefined || r.role === role));

  beforeAll(async () => {
    temporal = await requireTemporalCli();
    h = await startHarness({ responder: (req) => responder(req) });
    env = cliEnv(h);
  });
  afterAll(async () => h?.close());

  it('effort flags reach each role: model steps, request bodies, infty show and run.json', async () => {
    responder = scriptByRole({
      solver: [askDirection('Which file?'), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
      director: [directive('Write deliverable/a.txt')],
      'verifier*': [verdict('pass')],
    });
    const runId = uniqueId('effort');
    const r = await runCli(
      [
        'create',
        '--objective',
        'Efforts',
        '--run-id',
        runId,
        '--verifier',
        'alpha',
        '--sandbox',
        'none',
        '--json',
        '--reasoning-effort',
        'low',
        '--solver-reasoning-effort',
        'high',
        '--verifier-reasoning-effort',
        'minimal',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId, status: 'delivered' });
    const expected: Record<string, string> = { solver: 'high', director: 'low', 'verifier-alpha': 'minimal' };

    // What the workflow sends the model activity.
    const steps = await modelStepInputs(h, runId);
    for (const [role, effort] of Object.entries(expected)) {
      const own = steps.filter((s) => s.role === role);
      expect(own.length, role).toBeGreaterThan(0);
      for (const s of own) expect(s.reasoningEffort, role).toBe(effort);
    }
    // What reaches the endpoint (Responses: reasoning.effort).
    for (const [role, effort] of Object.entries(expected)) {
      for (const req of requestsOf(runId, role)) expect(req.body.reasoning?.effort, role).toBe(effort);
    }

    const show = JSON.parse((await runCli(['show', runId, '--json'], env)).stdout);
    for (const [role, effort] of Object.entries(expected)) expect(show.roles[role].reasoningEffort, role).toBe(effort);
    expect(show.runJson.roles).toEqual(
      expect.arrayContaining(Object.entries(expected).map(([role, effort]) => expect.objectContaining({ role, reasoning_effort: effort }))),
    );
    const human = await runCli(['show', runId], env);
    expect(human.stdout).toMatch(/effort\s+model/);
    expect(human.stdout).toMatch(/solver .* high\s+fake-model/);
    expect(human.stdout).toMatch(/director .* low\s+fake-model/);
  });

  it('without effort flags nothing is sent: the model default', async () => {
    responder = scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    const { runId, outcome } = await h.run({ objective: 'Default effort', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    for (const s of await modelStepInputs(h, runId)) expect(s).not.toHaveProperty('reasoningEffort');
    for (const req of requestsOf(runId)) expect(req.body.reasoning?.effort).toBeUndefined();
    const runJson = JSON.parse(readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8'));
    expect(runJson.roles[0]).toMatchObject({ role: 'solver', reasoning_effort: null });
    expect((await h.infty.progress(runId)).roles.solver!.reasoningEffort).toBeNull();
  });

  it('an unknown effort is an input error: exit 2, the valid values listed, nothing started', async () => {
    for (const flag of ['--reasoning-effort', '--solver-reasoning-effort', '--director-reasoning-effort', '--verifier-reasoning-effort']) {
      const runId = uniqueId('bad-effort');
      const r = await runCli(['create', '--objective', 'x', '--run-id', runId, '--sandbox', 'none', flag, 'turbo'], env);
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toContain(`${flag} must be one of none, minimal, low, medium, high, xhigh, max; got "turbo"`);
      expect(await h.infty.exists(runId)).toBe(false);
      expect(existsSync(join(h.runsRoot, runId))).toBe(false);
    }
    // The workflow input is validated the same way (client, and the workflow itself).
    await expect(h.infty.startRun({ runId: uniqueId('bad-effort'), objective: 'x', solverReasoningEffort: 'HIGH' as 'high' })).rejects.toThrow(
      /solverReasoningEffort must be one of none, minimal, low, medium, high, xhigh, max; got "HIGH"/,
    );
  });

  it("the orchestrator's instructions are developer messages; the objective, directives and feedback stay user messages", async () => {
    responder = scriptByRole({
      solver: [
        say('Thinking out loud.'), // idle → continuation
        say('{"type": "final_delivery", '), // malformed → correction
        askDirection('Where?'), // → directive
        deliver('nowhere.txt'), // → invalid delivery
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'), // → verification feedback (fail)
        deliver('deliverable/a.txt'), // → pass
      ],
      director: [directive('Use deliverable/a.txt')],
      'verifier*': [verdict('fail', ['too short']), verdict('pass')],
    });
    const { runId, outcome } = await h.run({ objective: 'Write <a> & b', verifiers: ['verifier-alpha'] });
    expect(outcome.status).toBe('delivered');
    const reqs = requestsOf(runId, 'solver');
    expect(reqs).toHaveLength(7);
    expect(lastMessage(reqs[0]!)).toEqual({ role: 'user', text: 'Write <a> & b' });
    expect(lastMessage(reqs[1]!).role).toBe('developer');
    expect(lastMessage(reqs[1]!).text).toMatch(/^# Continue working/);
    expect(lastMessage(reqs[1]!).text).toContain('<untrusted_objective>\nWrite &lt;a&gt; &amp; b\n</untrusted_objective>');
    expect(lastMessage(reqs[2]!).role).toBe('developer');
    expect(lastMessage(reqs[2]!).text).toMatch(/^Your reply could not be used/);
    expect(lastMessage(reqs[3]!)).toMatchObject({ role: 'user', text: expect.stringContaining('"directive":"Use deliverable/a.txt"') });
    expect(lastMessage(reqs[4]!).role).toBe('developer');
    expect(lastMessage(reqs[4]!).text).toMatch(/^Your final_delivery was not accepted/);
    expect(lastMessage(reqs[6]!).role).toBe('user');
    expect(JSON.parse(lastMessage(reqs[6]!).text)).toMatchObject({ type: 'verification_feedback', overall: 'fail' });
    // The full conversation of the last request: every earlier message kept its role.
    expect(messages(reqs[6]!).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'developer',
      'assistant',
      'developer',
      'assistant',
      'user',
      'assistant',
      'developer',
      'assistant',
      'user',
    ]);
    // The Director's and the Verifier's requests are user messages.
    expect(lastMessage(requestsOf(runId, 'director')[0]!).role).toBe('user');
    const verifierReq = requestsOf(runId, 'verifier-alpha')[0]!;
    expect(lastMessage(verifierReq)).toMatchObject({ role: 'user', text: expect.stringContaining('verification_request') });
    // The transcript keeps the role too.
    const transcript = readFileSync(join(h.home, 'transcripts', runId, 'solver.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(transcript.filter((i) => i.type === 'message' && i.role === 'developer')).toHaveLength(3);
  });

  it('a corrective message to a Verifier is a developer message', async () => {
    responder = scriptByRole({
      solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')],
      'verifier*': [say('looks fine'), verdict('pass')],
    });
    const { runId, outcome } = await h.run({ objective: 'x', verifiers: ['verifier-alpha'] });
    expect(outcome.status).toBe('delivered');
    const second = requestsOf(runId, 'verifier-alpha')[1]!;
    expect(lastMessage(second).role).toBe('developer');
    expect(lastMessage(second).text).toMatch(/^Your reply could not be used/);
  });

  it('infty goal --objective changes the objective mid-run: the Solver hears it escaped, the Verifiers judge against it', async () => {
    const gated = gatedSolver([tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')]);
    responder = gated.responder;
    const runId = uniqueId('objective');
    await h.infty.startRun({ runId, objective: 'Old objective', verifiers: ['verifier-alpha'], sandbox: 'none' });
    await until('first request', () => gated.waiting());
    const cli = await runCli(['goal', runId, '--objective', '  New <objective> & more  '], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('objective: New <objective> & more');
    expect((await h.infty.goal(runId)).objective).toBe('New <objective> & more');
    expect(JSON.parse(readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8')).objective).toBe('New <objective> & more');
    gated.open();
    expect((await h.infty.result(runId)).status).toBe('delivered');

    const solver = requestsOf(runId, 'solver');
    const notice = messages(solver[1]!).filter((m) => m.text.startsWith('# Objective updated'));
    expect(notice).toHaveLength(1);
    expect(notice[0]!.role).toBe('developer');
    expect(notice[0]!.text).toContain('<untrusted_objective>\nNew &lt;objective&gt; &amp; more\n</untrusted_objective>');
    // Sent once: later requests carry it only as history.
    expect(messages(solver[2]!).filter((m) => m.text.startsWith('# Objective updated'))).toHaveLength(1);
    const verification = JSON.parse(lastMessage(requestsOf(runId, 'verifier-alpha')[0]!).text);
    expect(verification).toMatchObject({ type: 'verification_request', objective: 'New <objective> & more' });

    const progress = await h.infty.progress(runId);
    expect(progress.objective).toBe('New <objective> & more');
    const events = progress.events.filter((e) => e.kind === 'objective_updated');
    expect(events.map((e) => e.message)).toEqual(['objective changed to: New <objective> & more', 'delivered the updated objective to the Solver']);
    expect(JSON.parse(readFileSync(join(h.runsRoot, runId, 'run.json'), 'utf8')).objective).toBe('New <objective> & more');
  });

  it('an invalid objective is refused with the reason and changes nothing; the temporal binary changes it', async () => {
    const state = { finish: false };
    let step = 0;
    responder = (req) => {
      if (req.role?.startsWith('verifier')) return verdict('pass');
      if (state.finish) return step++ % 2 === 0 ? tools(addFile(`deliverable/a${step}.txt`, ['a'])) : deliver('deliverable');
      // Each command differs, so the convergence watchdog does not step in.
      return { ...(step++ % 2 === 0 ? tools(shell(`echo hi ${step}`)) : say('still working')), latencyMs: 30 };
    };
    const runId = uniqueId('objective-refused');
    await h.infty.startRun({ runId, objective: 'Keep me', verifiers: ['verifier-alpha'], sandbox: 'none' });
    await until('working', async () => (requestsOf(runId).length >= 2 ? true : undefined));
    const before = await h.infty.goal(runId);

    // The workflow's own validator (not only the client's).
    const handle = h.client.workflow.getHandle(runId);
    for (const [objective, reason] of [
      ['   ', 'objective must not be empty'],
      [7, 'objective must be a string'],
      ['x'.repeat(MAX_OBJECTIVE_CHARS + 1), `objective is ${MAX_OBJECTIVE_CHARS + 1} characters; at most ${MAX_OBJECTIVE_CHARS} are allowed`],
    ] as const) {
      const err = await handle.executeUpdate('setGoal', { args: [{ objective, status: 'paused' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((err as WorkflowUpdateFailedError).cause?.message).toBe(reason);
    }
    await expect(h.infty.setGoal(runId, { objective: '' })).rejects.toThrow(/refused: objective must not be empty/);
    const cli = await runCli(['goal', runId, '--objective', ' \n '], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('invalid --objective: objective must not be empty');
    await expect(tctl(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', 'setGoal', '--input', '{"objective":"  "}'])).rejects.toThrow(
      /objective must not be empty/,
    );
    const after = await h.infty.goal(runId);
    expect(after).toMatchObject({ objective: 'Keep me', status: 'active', tokenBudget: before.tokenBudget });
    expect((await h.infty.progress(runId)).events.some((e) => e.kind === 'objective_updated')).toBe(false);

    // The official CLI, as documented.
    const upd = await tctl(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', 'setGoal', '--input', '{"objective":"Changed by temporal"}']);
    expect(upd.stdout).toContain('Changed by temporal');
    await until('the Solver hears it', async () =>
      requestsOf(runId, 'solver').some((r) =>
        messages(r).some((m) => m.role === 'developer' && m.text.includes('<untrusted_objective>\nChanged by temporal\n</untrusted_objective>')),
      )
        ? true
        : undefined,
    );
    state.finish = true;
    expect((await h.infty.result(runId)).status).toBe('delivered');
    const verification = JSON.parse(lastMessage(requestsOf(runId, 'verifier-alpha')[0]!).text);
    expect(verification.objective).toBe('Changed by temporal');
    // An ended run's objective can no longer change.
    const ended = await runCli(['goal', runId, '--objective', 'Too late'], env);
    expect(ended.code).toBe(2);
    expect(ended.stderr).toMatch(/not running/);
  });
});

describe('reasoning effort on the Chat Completions wire', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      wireApi: 'chat',
      responder: scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')], 'verifier*': [verdict('pass')] }),
    });
  });
  afterAll(async () => h?.close());

  it('sends reasoning_effort per role', async () => {
    const { runId, outcome } = await h.run({
      objective: 'Chat efforts',
      verifiers: ['verifier-alpha'],
      reasoningEffort: 'medium',
      verifierReasoningEffort: 'xhigh',
    });
    expect(outcome.status).toBe('delivered');
    const reqs = h.model.requests.filter((r) => r.runId === runId);
    expect(reqs.filter((r) => r.role === 'solver').map((r) => r.body.reasoning_effort)).toEqual(['medium', 'medium']);
    expect(reqs.filter((r) => r.role === 'verifier-alpha').map((r) => r.body.reasoning_effort)).toEqual(['xhigh']);
  });
});
