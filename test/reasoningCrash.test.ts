/**
 * Reasoning items survive a worker killed mid-turn: the worker dies right after a tool call's
 * output is journaled (failpoint tool.afterJournal); a fresh worker rebuilds the next request from
 * the transcript, which still carries the reasoning item, encrypted content and all, in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { startFakeModelServer } from '../src/fakeModel/server';
import type { FakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { outcomeWithin } from './support/outcome';
import { addFile, deliver } from './support/replies';
import { pinnedWorkflowBundle, WorkerGroup } from './support/workerProcess';

describe('reasoning across a worker crash', () => {
  let model: FakeModelServer;
  const home = mkdtempSync(join(tmpdir(), 'infty-reasoning-crash-'));
  const workers = new WorkerGroup();

  beforeAll(async () => {
    model = (await startFakeModelServer({
      responder: scriptByRole({
        solver: [
          { kind: 'tool_calls', calls: [addFile('deliverable/a.txt', ['a'])], reasoning: ['I should write the file first.'] },
          { kind: 'message', text: (deliver('deliverable/a.txt') as { text: string }).text, reasoning: ['The file exists; deliver it.'] },
        ],
      }),
    } as Parameters<typeof startFakeModelServer>[0])) as unknown as FakeModelServer;
  });
  afterAll(async () => {
    await workers.killAll();
    await model?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('the request after the crash carries the first step reasoning, encrypted, before its call; nothing is paid twice', async () => {
    const taskQueue = uniqueId('tq-reasoning-crash');
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      INFTY_TASK_QUEUE: taskQueue,
      INFTY_HOME: home,
      OPENAI_BASE_URL: model.baseUrl,
      INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle(),
    };
    const infty = await InftyClient.connect({ address: env.TEMPORAL_ADDRESS, namespace: 'default', taskQueue });
    try {
      const doomed = await workers.start({ ...env, INFTY_FAILPOINTS: 'tool.afterJournal' });
      const runId = uniqueId('reasoning-crash');
      await infty.startRun({ runId, objective: 'x', verifiers: [], sandbox: 'none' });
      const exit = await doomed.exited;
      expect(exit.signal).toBe('SIGKILL');
      expect(doomed.output()).toContain('failpoint tool.afterJournal');
      await workers.start(env);
      const outcome = await outcomeWithin(infty, runId, 60_000);
      expect(outcome.status).toBe('delivered');

      const turns = model.requests.filter((r) => r.runId === runId && r.purpose === 'turn');
      expect(turns).toHaveLength(2); // the first step was not paid for again
      const input = turns[1]!.body.input as { type?: string; encrypted_content?: string; summary?: { text: string }[] }[];
      const reasoningAt = input.findIndex((i) => i.type === 'reasoning');
      expect(reasoningAt).toBeGreaterThan(-1);
      expect(input[reasoningAt]!.encrypted_content).toBeTruthy();
      expect(input[reasoningAt + 1]!.type).toBe('function_call');
      expect(turns[0]!.body.include).toEqual(['reasoning.encrypted_content']);
      // Exact prefix: the second request extends the first.
      expect(JSON.stringify(input.slice(0, (turns[0]!.body.input as unknown[]).length))).toBe(JSON.stringify(turns[0]!.body.input));
    } finally {
      await infty.close();
    }
  }, 120_000);
});
