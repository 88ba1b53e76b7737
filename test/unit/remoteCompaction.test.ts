/**
 * Remote compaction (docs/behaviour.md §6.5) at the activity level: the compact activity against the
 * scripted server's `/responses/compact`, with a transcript written by hand.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compact, pendingTail, rebuildRemoteHistory } from '../../src/activities/compaction';
import type { ModelDeps } from '../../src/activities/model';
import { readTranscript, transcriptPath, writeTranscript } from '../../src/activities/transcripts';
import { openCompaction } from '../../src/fakeModel/compactWire';
import { type FakeModelServer, type RecordedRequest, type ScriptedReply, startFakeModelServer } from '../../src/fakeModel/server';
import type { CompactInput, CompactResult } from '../../src/protocol/activities';
import type { TranscriptItem } from '../../src/protocol/items';

let home: string;
let runs = 0;
const servers: FakeModelServer[] = [];

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'infty-remote-compaction-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(home, { recursive: true, force: true });
});

const SUMMARY = 'Summary: the Solver counted the lines of README.md (42).';

async function server(reply: (req: RecordedRequest) => ScriptedReply, opts: { responsesCompact?: boolean } = {}): Promise<FakeModelServer> {
  const s = await startFakeModelServer({ responder: reply, ...opts } as Parameters<typeof startFakeModelServer>[0]);
  servers.push(s);
  return s;
}

const history = (extra: TranscriptItem[] = []): TranscriptItem[] => [
  { type: 'instructions', text: 'You are the Solver.' },
  { type: 'message', role: 'user', text: 'Count the lines of README.md.' },
  { type: 'function_call', callId: 'call_1', name: 'shell', arguments: '{"command":["wc","-l","README.md"]}' },
  { type: 'step_end', input_sha256: 'a', usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 } },
  { type: 'function_call_output', callId: 'call_1', output: '42 README.md' },
  { type: 'message', role: 'assistant', text: 'It has 42 lines.' },
  { type: 'step_end', input_sha256: 'b', usage: { inputTokens: 20, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 } },
  { type: 'message', role: 'user', text: 'Now the words, please.' },
  ...extra,
];

async function setup(s: FakeModelServer, items: TranscriptItem[], over: Partial<ModelDeps['endpoint']> = {}) {
  const runId = `run-rc-${++runs}`;
  await writeTranscript(transcriptPath(home, runId, 'solver', 0), items, 1);
  const deps: ModelDeps = { home, endpoint: { baseURL: s.baseUrl, apiKey: 'test-key', wireApi: 'responses', stream: false, ...over } };
  const input: CompactInput = { runId, role: 'solver', generation: 0, committedLength: items.length, model: 'gpt-5.1-codex', demo: false, tools: ['shell'] };
  return { runId, deps, input };
}

let token = 1_700_000_000_000;
function run(input: CompactInput, deps: ModelDeps): Promise<CompactResult> {
  const env = new MockActivityEnvironment({ currentAttemptScheduledTimestampMs: ++token }, { logger: new DefaultLogger('ERROR') });
  return env.run(() => compact(input, deps));
}

describe('remote compaction (the compact activity)', () => {
  it('uses /responses/compact when offered: the new generation holds the user messages and the compaction item; a retry reuses it', async () => {
    const s = await server(() => ({ kind: 'message', text: SUMMARY, usage: { inputTokens: 321, outputTokens: 54 } }));
    const { runId, deps, input } = await setup(s, history());
    const result = await run(input, deps);
    expect(s.requests.map((r) => [r.path, r.purpose, r.status])).toEqual([['/v1/responses/compact', 'compaction', 'completed']]);
    const req = s.requests[0]!;
    expect(req.body).toMatchObject({ model: 'gpt-5.1-codex', instructions: 'You are the Solver.', prompt_cache_key: `${runId}:solver` });
    expect(req.body.input).toEqual([
      { role: 'user', content: 'Count the lines of README.md.' },
      { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["wc","-l","README.md"]}' },
      { type: 'function_call_output', call_id: 'call_1', output: '42 README.md' },
      { role: 'assistant', content: 'It has 42 lines.' },
      { role: 'user', content: 'Now the words, please.' },
    ]);
    expect(req.body).not.toHaveProperty('tools');

    const written = await readTranscript(transcriptPath(home, runId, 'solver', 1));
    expect(written.slice(0, -1)).toEqual([
      { type: 'instructions', text: 'You are the Solver.' },
      { type: 'message', role: 'user', text: 'Count the lines of README.md.' },
      { type: 'message', role: 'user', text: 'Now the words, please.' },
      { type: 'compaction', encryptedContent: expect.any(String) },
    ]);
    expect(openCompaction((written[3] as { encryptedContent: string }).encryptedContent)).toBe(SUMMARY);
    expect(written[4]).toMatchObject({ type: 'step_end', usage: { inputTokens: 321, outputTokens: 54 }, dropped_items: 0 });
    // Priced like a model step: 321 input tokens at $1.25 and 54 output at $10 per million (gpt-5.1-codex).
    expect(result).toEqual({
      generation: 1,
      length: 5,
      usage: { inputTokens: 321, cachedInputTokens: 0, outputTokens: 54, reasoningTokens: 0 },
      droppedItems: 0,
      costUsd: 0.00094125,
    });

    // A retried attempt (same input) finds the generation written and makes no request.
    expect(await run(input, deps)).toEqual(result);
    expect(s.requests).toHaveLength(1);
  });

  it('carries calls waiting for outputs after the compaction item instead of compacting them as aborted', async () => {
    const s = await server(() => ({ kind: 'message', text: SUMMARY }));
    const call: TranscriptItem = { type: 'function_call', callId: 'call_2', name: 'shell', arguments: '{"command":["wc","-w","README.md"]}' };
    const end: TranscriptItem = { type: 'step_end', input_sha256: 'c', usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 } };
    const { runId, deps, input } = await setup(s, history([call, end]));
    await run(input, deps);
    expect(s.requests[0]!.body.input.some((i: { call_id?: string }) => i.call_id === 'call_2')).toBe(false);
    const written = await readTranscript(transcriptPath(home, runId, 'solver', 1));
    expect(written.map((i) => i.type)).toEqual(['instructions', 'message', 'message', 'compaction', 'function_call', 'step_end']);
    expect(written[4]).toEqual(call);
  });

  it('estimates usage when the endpoint reports none', async () => {
    const s = await server(() => ({ kind: 'message', text: SUMMARY, omitUsage: true }));
    const { runId, deps, input } = await setup(s, history());
    const result = await run(input, deps);
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.inputTokens).toBeGreaterThan(10);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    const written = await readTranscript(transcriptPath(home, runId, 'solver', 1));
    expect(written[written.length - 1]).toMatchObject({ type: 'step_end', usage: { estimated: true } });
  });

  it('falls back to the local summary on 404 and remembers the endpoint: the next compaction does not try again', async () => {
    const s = await server((req) => ({ kind: 'message', text: `local ${req.path}` }), { responsesCompact: false });
    const first = await setup(s, history());
    await run(first.input, first.deps);
    expect(s.requests.map((r) => [r.path, r.purpose, r.status])).toEqual([
      ['/v1/responses/compact', 'compaction', 'fault'],
      ['/v1/responses', 'compaction', 'completed'],
    ]);
    const written = await readTranscript(transcriptPath(home, first.runId, 'solver', 1));
    expect(written.some((i) => i.type === 'compaction')).toBe(false);
    expect(written.some((i) => i.type === 'message' && i.text.endsWith('local /v1/responses'))).toBe(true);

    const second = await setup(s, history());
    await run(second.input, second.deps);
    expect(s.requests.map((r) => r.path)).toEqual(['/v1/responses/compact', '/v1/responses', '/v1/responses']);
  });

  it('treats 405 and a 400 "not supported" as unsupported, but a 503 as a failure to retry', async () => {
    for (const refusal of [
      { status: 405, message: 'Method Not Allowed' },
      { status: 400, message: 'Compaction is not supported for this model.' },
    ]) {
      const s = await server((req) => (req.path.endsWith('/compact') ? { kind: 'error', ...refusal } : { kind: 'message', text: 'local summary' }));
      const { deps, input } = await setup(s, history());
      await run(input, deps);
      expect(s.requests.map((r) => r.path)).toEqual(['/v1/responses/compact', '/v1/responses']);
    }
    const s = await server(() => ({ kind: 'error', status: 503, message: 'compactor down' }));
    const { deps, input } = await setup(s, history());
    const err = await run(input, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('ModelUnavailable');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect(s.requests.map((r) => r.path)).toEqual(['/v1/responses/compact']);
  });

  it('remembers a 400 "not supported" per model: another model on the same endpoint still tries', async () => {
    const s = await server((req) =>
      req.path.endsWith('/compact') && req.body.model === 'old-model'
        ? { kind: 'error', status: 400, message: 'The model old-model does not support compaction.' }
        : { kind: 'message', text: SUMMARY },
    );
    for (const model of ['old-model', 'old-model', 'gpt-5.1-codex']) {
      const { deps, input } = await setup(s, history());
      await run({ ...input, model }, deps);
    }
    expect(s.requests.map((r) => `${r.body.model} ${r.path}`)).toEqual([
      'old-model /v1/responses/compact',
      'old-model /v1/responses',
      'old-model /v1/responses',
      'gpt-5.1-codex /v1/responses/compact',
    ]);
  });

  it('drops the oldest items and retries when the compact request is too long', async () => {
    let calls = 0;
    const s = await server(() =>
      ++calls === 1
        ? { kind: 'error', status: 400, code: 'context_length_exceeded', message: "This model's maximum context length is 100 tokens." }
        : { kind: 'message', text: SUMMARY },
    );
    const { deps, input } = await setup(s, history());
    const result = await run(input, deps);
    expect(s.requests.map((r) => r.path)).toEqual(['/v1/responses/compact', '/v1/responses/compact']);
    expect(s.requests[1]!.body.input.length).toBeLessThan(s.requests[0]!.body.input.length);
    expect(result.droppedItems).toBeGreaterThan(0);
  });

  it('Chat Completions endpoints always compact locally', async () => {
    const s = await server(() => ({ kind: 'message', text: 'chat summary' }));
    const { deps, input } = await setup(s, history(), { wireApi: 'chat' });
    await run(input, deps);
    expect(s.requests.map((r) => [r.path, r.purpose])).toEqual([['/v1/chat/completions', 'compaction']]);
  });
});

describe('the rebuilt history after a remote compaction', () => {
  it('keeps the most recent returned user messages within the budget, in order, and the pending tail with its reasoning', () => {
    const transcript: TranscriptItem[] = [
      { type: 'instructions', text: 'i' },
      { type: 'message', role: 'user', text: 'u' },
      { type: 'reasoning', id: 'rs_1', encryptedContent: 'e', summary: [] },
      { type: 'function_call', callId: 'c', name: 'shell', arguments: '{}' },
    ];
    expect(pendingTail(transcript).map((i) => i.type)).toEqual(['reasoning', 'function_call']);
    const returned: TranscriptItem[] = [
      { type: 'message', role: 'user', text: 'x'.repeat(400) },
      { type: 'message', role: 'user', text: 'recent' },
      { type: 'compaction', encryptedContent: 'opaque' },
    ];
    const rebuilt = rebuildRemoteHistory(transcript, returned, 10);
    expect(rebuilt.map((i) => i.type)).toEqual(['instructions', 'message', 'message', 'compaction', 'reasoning', 'function_call']);
    expect((rebuilt[2] as { text: string }).text).toBe('recent');
    expect((rebuilt[1] as { text: string }).text).toMatch(/characters truncated/);
  });
});
