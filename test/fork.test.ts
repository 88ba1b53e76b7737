/**
 * Issue 14 item 3: `infty fork RUN --at-turn K` (docs/architecture.md decision 13): the fork's roles
 * continue from the source's transcripts as of Solver turn K, shared by reference, its run directory
 * starts from that turn's snapshot, and the source is untouched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTranscript, transcriptPath } from '../src/activities/transcripts';
import { runCli } from './support/cli';
import type { RecordedRequest } from './support/fakeModel';
import { uniqueId, usePerRunHarness } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, tools, verdict } from './support/replies';
import { until } from './support/wait';

/** Every text in a Responses request's input. */
const inputText = (req: RecordedRequest): string => JSON.stringify(req.body.input);

function transcriptBytes(home: string, runId: string): Record<string, string> {
  const dir = join(home, 'transcripts', runId);
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe('infty fork', () => {
  const t = usePerRunHarness();

  it('forks at turn 2: shared transcript prefix, files of turn 2, another model; the source is unchanged', async () => {
    const parent = uniqueId('fk-src');
    t.scripts.set(
      parent,
      scriptByRole({
        solver: [
          tools(addFile('a.txt', ['one'])),
          askDirection('question-of-turn-1'),
          tools(addFile('b.txt', ['two'])),
          askDirection('question-of-turn-2'),
          tools(addFile('deliverable/c.txt', ['three'])),
          deliver('deliverable/c.txt'),
        ],
        director: [directive('directive-one'), directive('directive-two')],
        'verifier*': [verdict('pass')],
      }),
    );
    const src = await t.h.run({ runId: parent, objective: 'Write files', verifiers: ['verifier-a'] });
    expect(src.outcome.status).toBe('delivered');
    for (const k of [1, 2, 3]) expect(existsSync(join(t.h.home, 'snapshots', parent, `turn-${k}.json`))).toBe(true);
    // Turn 2's manifest is a delta on turn 1's (decision 13): the fork below resolves it.
    expect(JSON.parse(readFileSync(join(t.h.home, 'snapshots', parent, 'turn-2.json'), 'utf8'))).toMatchObject({ parent: 1, depth: 1 });
    const parentBefore = transcriptBytes(t.h.home, parent);

    // invalid turns: usage errors, nothing started
    expect((await runCli(['fork', parent, '--at-turn', '0'], t.env)).code).toBe(2);
    const tooLate = await runCli(['fork', parent, '--at-turn', '4', '--run-id', uniqueId('fk-no')], t.env);
    expect(tooLate.code).toBe(2);
    expect(tooLate.stderr).toMatch(/between 1 and 3/);

    const child = uniqueId('fk-dst');
    t.scripts.set(
      child,
      scriptByRole({
        solver: [tools(addFile('deliverable/d.txt', ['fork'])), deliver('deliverable/d.txt')],
        'verifier*': [verdict('pass')],
      }),
    );
    const r = await runCli(['fork', parent, '--at-turn', '2', '--run-id', child, '--model', 'other-model', '--json'], t.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).status).toBe('delivered');

    // The fork's first Solver request holds the source's conversation up to turn 2, with the other model.
    const first = t.h.model.requests.find((q) => q.runId === child && q.role === 'solver')!;
    expect(first.body.model).toBe('other-model');
    const text = inputText(first);
    expect(text).toContain('question-of-turn-1');
    expect(text).toContain('directive-one');
    expect(text).toContain('question-of-turn-2');
    expect(text).not.toContain('directive-two');
    expect(text).not.toContain('deliverable/c.txt');
    expect(text).toContain(`forked from run \\"${parent}\\" after your turn 2`);
    for (const q of t.h.model.requests.filter((x) => x.runId === child)) expect(q.body.model).toBe('other-model');

    // Files as of turn 2, not later ones; the fork's own deliverable.
    const forkDir = join(t.h.runsRoot, child);
    expect(readFileSync(join(forkDir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(forkDir, 'b.txt'), 'utf8')).toBe('two\n');
    expect(existsSync(join(forkDir, 'deliverable', 'c.txt'))).toBe(false);
    expect(existsSync(join(forkDir, 'deliverable', 'd.txt'))).toBe(true);

    // The prefix is shared by reference: one line on disk, resolved to the source's lines.
    const forkPath = transcriptPath(t.h.home, child, 'solver', 0);
    const parentPath = transcriptPath(t.h.home, parent, 'solver', 0);
    const head = JSON.parse(readFileSync(forkPath, 'utf8').split('\n')[0]!) as { type: string; run: string; lines: number };
    expect(head).toMatchObject({ type: 'prefix', run: parent, role: 'solver', generation: 0 });
    const prefixBytes = readFileSync(parentPath, 'utf8').split('\n').slice(0, head.lines).join('\n').length;
    expect(statSync(forkPath).size).toBeLessThan(prefixBytes);
    const resolved = await readTranscript(forkPath);
    const parentItems = await readTranscript(parentPath, head.lines);
    expect(resolved.slice(0, head.lines)).toEqual(parentItems);
    expect(resolved.length).toBeGreaterThan(head.lines);

    // The source is untouched; show names the fork's source and turn.
    expect(transcriptBytes(t.h.home, parent)).toEqual(parentBefore);
    const show = await runCli(['show', child], t.env);
    expect(show.stdout).toContain(`fork of:   ${parent} at turn 2`);
    const json = JSON.parse((await runCli(['show', child, '--json'], t.env)).stdout) as { forkOf: unknown; runJson: { fork_of: unknown } };
    expect(json.forkOf).toEqual({ runId: parent, turn: 2 });
    expect(json.runJson.fork_of).toEqual({ run_id: parent, turn: 2 });
  }, 240_000);

  it('forks a source that is still running; both finish, and the source only ever grows its transcripts', async () => {
    const parent = uniqueId('fk-live');
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let heldAtTurn2 = false;
    t.scripts.set(
      parent,
      scriptByRole({
        solver: [
          tools(addFile('a.txt', ['one'])),
          askDirection('live-question-1'),
          async () => {
            heldAtTurn2 = true;
            await released;
            return tools(addFile('deliverable/c.txt', ['source']));
          },
          deliver('deliverable/c.txt'),
        ],
        director: [directive('live-directive-1')],
        'verifier*': [verdict('pass')],
      }),
    );
    const source = t.h.run({ runId: parent, objective: 'Write files', verifiers: ['verifier-a'] });
    await until('the source in its second turn', () => (heldAtTurn2 ? true : undefined), 60_000);
    expect(existsSync(join(t.h.home, 'snapshots', parent, 'turn-1.json'))).toBe(true);
    const atFork = transcriptBytes(t.h.home, parent);

    const child = uniqueId('fk-live-dst');
    t.scripts.set(
      child,
      scriptByRole({ solver: [tools(addFile('deliverable/d.txt', ['fork'])), deliver('deliverable/d.txt')], 'verifier*': [verdict('pass')] }),
    );
    const r = await runCli(['fork', parent, '--at-turn', '1', '--run-id', child, '--model', 'other-model', '--json'], t.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).status).toBe('delivered');
    expect(readFileSync(join(t.h.runsRoot, child, 'a.txt'), 'utf8')).toBe('one\n');

    release();
    const { outcome } = await source;
    expect(outcome.status).toBe('delivered');
    expect(readFileSync(join(t.h.runsRoot, parent, 'deliverable', 'c.txt'), 'utf8')).toBe('source\n');
    expect(existsSync(join(t.h.runsRoot, parent, 'deliverable', 'd.txt'))).toBe(false);
    // Every transcript of the source (not its fence files) was only appended to after the fork, so the fork's prefix still resolves to what it shared.
    const after = transcriptBytes(t.h.home, parent);
    const transcripts = Object.entries(atFork).filter(([file]) => file.endsWith('.jsonl'));
    expect(transcripts.length).toBeGreaterThanOrEqual(2);
    for (const [file, bytes] of transcripts) expect(after[file]!.startsWith(bytes), file).toBe(true);
    const forkPath = transcriptPath(t.h.home, child, 'solver', 0);
    const head = JSON.parse(readFileSync(forkPath, 'utf8').split('\n')[0]!) as { lines: number };
    expect((await readTranscript(forkPath)).slice(0, head.lines)).toEqual(await readTranscript(transcriptPath(t.h.home, parent, 'solver', 0), head.lines));
    expect(t.h.model.requests.filter((q) => q.runId === parent).every((q) => q.body.model !== 'other-model')).toBe(true);
  }, 240_000);

  it('a fork of a missing snapshot fails at once with ForkSourceMissing', async () => {
    const runId = uniqueId('fk-miss');
    t.scripts.set(runId, scriptByRole({}));
    const { outcome } = await t.h.run({ runId, objective: 'x', verifiers: [], forkOf: { runId: 'no-such-run', turn: 1 } });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.reason).toMatch(/no snapshot of Solver turn 1/);
  }, 60_000);
});
