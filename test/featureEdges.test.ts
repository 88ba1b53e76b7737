/**
 * Where two features meet (docs/behaviour.md §3.8): each test aims at the weakest point of the
 * promise where one rule could leak into the other.
 *
 * - watchdog × fork: the convergence watchdog (§3.7) is run state, a fork (§4.3) a new run — a fork
 *   taken after its source was escalated, while the source is paused not_converging, gets a full
 *   window and a fresh escalation count of its own.
 * - verified hash × fork: a fork's outcome is bound to its own content (§3.3), and its files are
 *   copies, so changing either run's deliverable never shows in the other's `infty verify`.
 * - pause × fleet `--where` × a run that ends: a run that delivers between the fleet command's
 *   listing and its action is counted as done, stays delivered, and the others are paused
 *   (interface.md §1 "Fleet control") — by the batch operation and run by run alike.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { objectPath, readManifest } from '../src/activities/snapshots';
import { readRunJson } from '../src/host/runJson';
import type { RunOutcome } from '../src/protocol/outcome';
import { REPEATED_FAILURE_THRESHOLD } from '../src/workflows/watchdog';
import { runCli } from './support/cli';
import type { RecordedRequest } from './support/fakeModel';
import { startGrpcGate } from './support/grpcGate';
import { uniqueId, usePerRunHarness } from './support/harness';
import { type ScriptEntry, scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, shell, tools, verdict } from './support/replies';
import { until } from './support/wait';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** The texts of a Responses request's input items. */
const texts = (req: RecordedRequest): string[] =>
  (req.body.input as { content?: unknown }[]).map((i) => (typeof i.content === 'string' ? i.content : JSON.stringify(i.content ?? '')));

type Delivered = Extract<RunOutcome, { status: 'delivered' }>;

describe('where two features meet', () => {
  const t = usePerRunHarness();
  /** Runs left running by a test, terminated at the end (before the harness closes). */
  const leftRunning: string[] = [];

  afterAll(async () => {
    await Promise.all(
      leftRunning.map((id) =>
        t.h.client.workflow
          .getHandle(id)
          .terminate('featureEdges done')
          .catch(() => undefined),
      ),
    );
  });

  const turnRequests = (runId: string, role: string) => t.h.model.requests.filter((r) => r.runId === runId && r.role === role && r.purpose === 'turn');

  /** The run's outcome, or `held` with the goal's reason as soon as it is paused (a test must not hang on a held run). */
  const endOrHold = (runId: string) =>
    until(
      `${runId} to end or be held`,
      async () => {
        if ((await t.h.infty.describe(runId)).status.name !== 'RUNNING') return t.h.infty.result(runId);
        const g = await t.h.infty.goal(runId);
        return g.status === 'paused' ? { runId, status: 'held' as const, reason: g.statusReason } : undefined;
      },
      120_000,
    );

  describe('watchdog × fork', () => {
    it('a fork taken after its source was escalated, while the source is paused not_converging, has a full window and escalation count of its own', async () => {
      const failing = () => tools(shell('exit 3'));
      const src = uniqueId('edge-wd-src');
      t.scripts.set(
        src,
        scriptByRole({
          solver: [
            // turn 1: three identical failures → the Director is asked (first escalation) …
            ...Array.from({ length: REPEATED_FAILURE_THRESHOLD }, failing),
            // … two more in the new window, so at the end of turn 1 the window is one failure short of the signal
            ...Array.from({ length: REPEATED_FAILURE_THRESHOLD - 1 }, failing),
            askDirection('src-question-of-turn-1'),
            // turn 2: the window's third failure → the same signal again → the goal is paused
            failing(),
          ],
          director: [directive('src-directive-of-the-watchdog'), directive('src-directive-of-turn-1')],
        }),
      );
      await t.h.infty.startRun({ runId: src, objective: 'Make `exit 3` pass', verifiers: [], sandbox: 'none' });
      leftRunning.push(src);
      const srcHeld = await endOrHold(src);
      expect(srcHeld).toMatchObject({ status: 'held', reason: expect.stringMatching(/^not_converging: the same call failed the same way 3 times/) });
      const srcBefore = await t.h.infty.progress(src);
      expect(srcBefore.roles.solver!.turns).toBe(1);
      expect(srcBefore.events.filter((e) => e.kind === 'not_converging').map((e) => e.message)).toEqual([
        expect.stringMatching(/asking the Director/),
        expect.stringMatching(/the goal is paused/),
      ]);

      // The fork at turn 1 (after the escalation). Its first Solver step waits until its start was inspected.
      const child = uniqueId('edge-wd-fork');
      let startFork = () => {};
      const forkMayStart = new Promise<void>((resolve) => (startFork = resolve));
      t.scripts.set(
        child,
        scriptByRole({
          solver: [
            // With the source's window this failure would be the third → paused at once (the kind was escalated already).
            async () => {
              await forkMayStart;
              return failing();
            },
            ...Array.from({ length: REPEATED_FAILURE_THRESHOLD - 1 }, failing),
            // The third failure in the fork's own window was escalated: the Solver changes course.
            tools(addFile('deliverable/fixed.txt', ['fixed'])),
            deliver('deliverable/fixed.txt'),
          ],
          director: [directive('fork-directive-of-the-watchdog')],
        }),
      );
      const r = await runCli(['fork', src, '--at-turn', '1', '--run-id', child, '--detach'], t.env);
      expect(r.code, r.stderr).toBe(0);
      leftRunning.push(child);

      // The fork's progress at its start: nothing of the source's not_converging state.
      await until('the fork to ask its Solver', () => (turnRequests(child, 'solver').length > 0 ? true : undefined), 60_000);
      const atStart = await t.h.infty.progress(child);
      expect(atStart.forkOf).toEqual({ runId: src, turn: 1 });
      expect(atStart.goal).toMatchObject({ status: 'active', statusReason: null });
      expect(atStart.phase).toBe('solving');
      expect(atStart.events.filter((e) => e.kind === 'not_converging' || e.kind === 'paused')).toEqual([]);
      expect(atStart.roles.director!.turns).toBe(0);
      startFork();

      const outcome = await endOrHold(child);
      expect(outcome.status, JSON.stringify(outcome)).toBe('delivered');

      // Escalated once, after its own third failure — not paused, not escalated earlier.
      const progress = await t.h.infty.progress(child);
      const flagged = progress.events.filter((e) => e.kind === 'not_converging');
      expect(flagged.map((e) => e.message)).toEqual([
        expect.stringMatching(/the same call failed the same way 3 times in the Solver's last 3 tool calls: .*asking the Director/),
      ]);
      expect(progress.events.some((e) => e.kind === 'paused')).toBe(false);
      expect(progress.goal.status).toBe('complete');
      const director = turnRequests(child, 'director');
      expect(director).toHaveLength(1);
      expect(texts(director[0]!).at(-1)).toContain('convergence watchdog');
      const solver = turnRequests(child, 'solver');
      for (let i = 1; i < REPEATED_FAILURE_THRESHOLD; i++) {
        expect(
          texts(solver[i]!).some((t) => t.includes('fork-directive-of-the-watchdog')),
          `Solver request ${i}`,
        ).toBe(false);
      }
      expect(texts(solver[REPEATED_FAILURE_THRESHOLD]!).some((t) => t.includes('fork-directive-of-the-watchdog'))).toBe(true);

      // The source is untouched by its fork: still held with its own reason, its events unchanged.
      expect(await t.h.infty.goal(src)).toMatchObject({ status: 'paused', statusReason: srcBefore.goal.statusReason });
      expect((await t.h.infty.progress(src)).events).toEqual(srcBefore.events);
    }, 240_000);
  });

  describe('verified hash × fork', () => {
    const src = uniqueId('edge-vh-src');
    const child = uniqueId('edge-vh-fork');
    const srcFile = () => join(t.h.runsRoot, src, 'deliverable', 'out.txt');
    const forkFile = () => join(t.h.runsRoot, child, 'deliverable', 'out.txt');
    const srcContent = 'source final\n';
    const forkContent = 'draft\nfork final\n';

    it('a fork at an earlier turn that delivers other content carries its own verifiedHash; verify FORK and verify SRC both exit 0', async () => {
      t.scripts.set(
        src,
        scriptByRole({
          solver: [
            tools(addFile('deliverable/out.txt', ['draft'])),
            askDirection('src-question-of-turn-1'),
            tools(shell(`printf 'source final\\n' > deliverable/out.txt`)),
            deliver('deliverable/out.txt', 'the source'),
          ],
          director: [directive('finish it')],
          'verifier*': [verdict('pass')],
        }),
      );
      const s = (await t.h.run({ runId: src, objective: 'Write out.txt', verifiers: ['verifier-a'] })).outcome as Delivered;
      expect(s.status).toBe('delivered');
      expect(s.verifiedHash).toBe(sha(srcContent));

      // The fork starts from turn 1's draft and appends to that file in place: its copy, not the source's file or the store's object.
      t.scripts.set(
        child,
        scriptByRole({
          solver: [tools(shell(`printf 'fork final\\n' >> deliverable/out.txt`)), deliver('deliverable/out.txt', 'the fork')],
          'verifier*': [verdict('pass')],
        }),
      );
      const r = await runCli(['fork', src, '--at-turn', '1', '--run-id', child, '--json'], t.env, 120_000);
      expect(r.code, r.stderr).toBe(0);
      const f = JSON.parse(r.stdout.trim().split('\n').pop()!) as Delivered;
      expect(f.status).toBe('delivered');
      expect(f.deliverablePath).toBe(forkFile());
      expect(f.verifiedHash).toBe(sha(forkContent));
      expect(f.verification.verifiedHash).toBe(sha(forkContent));
      expect(readFileSync(forkFile(), 'utf8')).toBe(forkContent);
      expect(readFileSync(srcFile(), 'utf8')).toBe(srcContent);

      const vf = await runCli(['verify', child], t.env);
      expect(vf.code, vf.stderr).toBe(0);
      expect(vf.stdout).toContain(`unchanged: ${forkFile()}`);
      expect(vf.stdout).toContain(sha(forkContent));
      const vs = await runCli(['verify', src], t.env);
      expect(vs.code, vs.stderr).toBe(0);
      expect(vs.stdout).toContain(`unchanged: ${srcFile()}`);
      expect(vs.stdout).toContain(sha(srcContent));
    }, 240_000);

    it("changing the fork's deliverable after delivery: verify FORK exits 1, verify SRC still 0, the snapshot store untouched", async () => {
      writeFileSync(forkFile(), 'tampered\n'); // in place: the same inode
      const vf = await runCli(['verify', child, '--json'], t.env);
      expect(vf.code, vf.stderr).toBe(1);
      expect(JSON.parse(vf.stdout)).toMatchObject({
        runId: child,
        kind: 'file',
        verifiedHash: sha(forkContent),
        currentHash: sha('tampered\n'),
        unchanged: false,
      });
      const vs = await runCli(['verify', src, '--json'], t.env);
      expect(vs.code, vs.stderr).toBe(0);
      expect(JSON.parse(vs.stdout)).toMatchObject({ runId: src, verifiedHash: sha(srcContent), currentHash: sha(srcContent), unchanged: true });
      expect(readFileSync(srcFile(), 'utf8')).toBe(srcContent);

      // Every object of the turn the fork was taken from still holds the content its name says, so a later fork gets turn 1's draft.
      const manifest = (await readManifest(t.h.home, src, 1))!;
      expect(manifest.files.find((x) => x.path === join('deliverable', 'out.txt'))?.sha256).toBe(sha('draft\n'));
      for (const file of manifest.files.filter((x) => x.link === undefined)) {
        expect(sha(readFileSync(objectPath(t.h.home, file.sha256))), file.path).toBe(file.sha256);
      }
    }, 120_000);
  });

  describe('pause × fleet --where × a run that is ending', () => {
    /**
     * Two runs whose Solver's model call never answers, and one whose Solver delivers as soon as
     * `deliverNow` is called. Returns the query matching exactly the three, once visibility lists them running.
     */
    async function fleetWithOneEnding(prefix: string) {
      const id = uniqueId(prefix);
      const held = [`${id}-a`, `${id}-b`];
      const ending = `${id}-ending`;
      let deliverNow = () => {};
      const mayDeliver = new Promise<void>((resolve) => (deliverNow = resolve));
      for (const runId of held) t.scripts.set(runId, () => ({ kind: 'fault', fault: { kind: 'hang' } }));
      const endingScript: ScriptEntry[] = [
        tools(addFile('deliverable/e.txt', ['e'])),
        async () => {
          await mayDeliver;
          return deliver('deliverable/e.txt', 'ended between the listing and the batch');
        },
      ];
      t.scripts.set(ending, scriptByRole({ solver: endingScript }));
      const all = [...held, ending];
      await Promise.all(all.map((runId) => t.h.infty.startRun({ runId, objective: 'Hold on', verifiers: [], sandbox: 'none' })));
      leftRunning.push(...held);
      const query = `TaskQueue = '${t.h.taskQueue}' AND WorkflowId IN (${all.map((x) => `'${x}'`).join(', ')})`;
      await listed(`${query} AND ExecutionStatus = 'Running' AND InftyGoalStatus = 'active'`, all);
      await until('the ending run to wait for its delivery', () => (turnRequests(ending, 'solver').length === 2 ? true : undefined), 30_000);
      return { held, ending, all, query, deliverNow };
    }

    const listed = (where: string, expected: string[]) =>
      until(
        `visibility to list ${where}`,
        async () => {
          const r = await runCli(['list', '--where', where, '--json'], t.env);
          expect(r.code, r.stderr).toBe(0);
          const ids = (JSON.parse(r.stdout) as { runId: string }[]).map((x) => x.runId).sort();
          return JSON.stringify(ids) === JSON.stringify([...expected].sort()) ? ids : undefined;
        },
        30_000,
      );

    /** The ending run delivered, its goal complete, nothing of a pause in it. */
    async function expectStillDelivered(runId: string) {
      expect((await t.h.infty.describe(runId)).status.name).toBe('COMPLETED');
      expect((await t.h.infty.result(runId)).status).toBe('delivered');
      const p = await t.h.infty.progress(runId);
      expect(p.goal).toMatchObject({ status: 'complete', statusReason: null });
      expect(p.events.some((e) => e.kind === 'paused')).toBe(false);
      expect((await readRunJson(join(t.h.runsRoot, runId)))?.status).toBe('delivered');
    }

    it('a run that delivers between the listing and the batch operation is counted as done and stays delivered; the others are paused, and resume --where resumes them', async () => {
      const { held, ending, all, query, deliverNow } = await fleetWithOneEnding('edge-fleet');
      const gate = await startGrpcGate(t.h.address);
      try {
        const batchCall = gate.hold('StartBatchOperation');
        // The ending run delivers once the command has printed its list; the batch reaches the server only after it has ended.
        const command = runCli(['pause', '--where', query], { ...t.env, TEMPORAL_ADDRESS: gate.address }, 120_000, {
          onStdout: (soFar) => {
            if (all.every((x) => soFar.includes(x))) deliverNow();
          },
        });
        expect((await t.h.infty.result(ending)).status).toBe('delivered');
        await batchCall.arrived;
        batchCall.release();
        const r = await command;
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(r.stdout).toContain('pause: 3 running runs match');
        expect(r.stdout).toMatch(/paused 3 of 3 runs \(Temporal batch operation infty-pause-/);
        expect(gate.calls).toContain('StartBatchOperation');
      } finally {
        await gate.close();
      }
      await expectStillDelivered(ending);
      for (const id of held) expect(await t.h.infty.goal(id), id).toMatchObject({ status: 'paused', statusReason: 'paused by the user' });

      // resume --where with the same query: the ended run no longer matches; the others are resumed.
      await listed(`${query} AND InftyGoalStatus = 'paused'`, held);
      const resumed = await runCli(['resume', '--where', query, '--json'], t.env);
      expect(resumed.code, resumed.stderr).toBe(0);
      const doc = JSON.parse(resumed.stdout);
      expect(doc.matched.map((m: { runId: string }) => m.runId).sort()).toEqual([...held].sort());
      expect(doc.results).toMatchObject({ method: 'batch', state: 'completed', total: 2, succeeded: 2, failed: 0 });
      for (const id of held) expect((await t.h.infty.goal(id)).status, id).toBe('active');
      await expectStillDelivered(ending);
    }, 240_000);

    it('the same when the server will not run a batch operation: run by run, the run that ended is counted as done, exit 0', async () => {
      const { held, ending, all, query, deliverNow } = await fleetWithOneEnding('edge-fleet-each');
      const gate = await startGrpcGate(t.h.address);
      try {
        const batchCall = gate.hold('StartBatchOperation');
        const command = runCli(['pause', '--where', query, '--json'], { ...t.env, TEMPORAL_ADDRESS: gate.address }, 120_000);
        await batchCall.arrived; // the listing is done: the command is at its action; the ending run delivers now
        deliverNow();
        expect((await t.h.infty.result(ending)).status).toBe('delivered');
        gate.refuse('StartBatchOperation', 12, 'batch operations are not available here'); // UNIMPLEMENTED: the command goes run by run
        batchCall.release();
        const r = await command;
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        const doc = JSON.parse(r.stdout);
        expect(doc.matched.map((m: { runId: string }) => m.runId).sort()).toEqual([...all].sort());
        expect(doc.results).toMatchObject({ method: 'each', total: 3, succeeded: 3, failed: 0 });
        expect(doc.results.runs.find((x: { runId: string }) => x.runId === ending)).toEqual({
          runId: ending,
          ok: true,
          note: 'had already ended (completed); counted as done',
        });
        for (const id of held)
          expect(
            doc.results.runs.find((x: { runId: string }) => x.runId === id),
            id,
          ).toEqual({ runId: id, ok: true });
        expect(r.stderr).toContain(`  ${ending}: had already ended (completed); counted as done`);
        expect(r.stderr).toContain('paused 3 of 3 runs');
      } finally {
        await gate.close();
      }
      await expectStillDelivered(ending);
      for (const id of held) expect(await t.h.infty.goal(id), id).toMatchObject({ status: 'paused', statusReason: 'paused by the user' });
    }, 240_000);
  });
});
