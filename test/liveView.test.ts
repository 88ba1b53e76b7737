/**
 * The live view (issue 20, part 3; docs/interface.md §1 `watch`, §2): a running model step's text and
 * a running command's output reach `infty watch` through the activities' heartbeat details —
 * bounded (2 KiB), scrubbed, at most one a second — and never through workflow history.
 */
import { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveText } from '../src/activities/live';
import { callModel } from '../src/activities/wire/call';
import { appended, LiveLines, type LivePartial, livePartials } from '../src/cli/live';
import { isLiveDetail, LIVE_RECOMPUTE_MS, type LiveDetail, MAX_LIVE_TEXT_BYTES } from '../src/protocol/live';
import { runCli } from './support/cli';
import { type ScriptedReply, startFakeModelServer } from './support/fakeModel';
import { cliEnv, type Harness, startHarness, uniqueId } from './support/harness';
import { decodedHistoryText } from './support/history';
import { type RoleScriptResponder, scriptByRole } from './support/modelScript';
import { addFile, deliver, say, withUsage } from './support/replies';
import { sleep } from './support/wait';
import { endpointFor, WIRE_VARIANTS, wireRequest } from './support/wireCall';

const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

/** Opens once `n` watchers have printed something: the long step starts only when they follow the run (a loaded machine starts them slowly). */
function gate(n: number): { opened: Promise<void>; seen: (who: string) => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const who = new Set<string>();
  return {
    opened,
    seen: (w) => {
      who.add(w);
      if (who.size >= n) open();
    },
  };
}

describe('the live detail (src/activities/live.ts)', () => {
  it('is undefined until something was produced', () => {
    expect(new LiveText({ activity: 'modelStep', role: 'solver', attempt: 1 }, {}).detail()).toBeUndefined();
  });

  it('keeps the last 2 KiB of a 1 MB stream, UTF-8 safe, and counts every byte', () => {
    let now = 0;
    const live = new LiveText({ activity: 'modelStep', role: 'solver', attempt: 2 }, {}, () => now);
    const piece = 'é€😀 line of text\n'.repeat(64); // multi-byte characters, 1.6 KB
    let full = '';
    while (bytesOf(full) < 1_000_000) {
      full += piece;
      live.text(piece);
      now += LIVE_RECOMPUTE_MS;
      const d = live.detail()!;
      expect(bytesOf(d.text)).toBeLessThanOrEqual(MAX_LIVE_TEXT_BYTES);
    }
    const d = live.detail()!;
    expect(d).toMatchObject({ v: 1, activity: 'modelStep', role: 'solver', attempt: 2, bytes: bytesOf(full) });
    expect(bytesOf(d.text)).toBeGreaterThan(MAX_LIVE_TEXT_BYTES - 4);
    expect(d.text).not.toContain('\uFFFD');
    expect(full.endsWith(d.text)).toBe(true);
    expect(isLiveDetail(JSON.parse(JSON.stringify(d)))).toBe(true);
  });

  it('decodes command output split inside a character, and keeps only what a terminal shows safely', () => {
    let now = 0;
    const live = new LiveText({ activity: 'runToolCall', role: 'solver', attempt: 1, callId: 'c1', tool: 'shell' }, {}, () => now);
    const bytes = Buffer.from('\x1b[31mré\x1b[0md\r\nnext\rline\x07 \x1b]0;title\x07ok\n', 'utf8');
    const split = bytes.indexOf(0xa9); // the second byte of é
    live.output(bytes.subarray(0, split));
    live.output(bytes.subarray(split));
    now += LIVE_RECOMPUTE_MS;
    expect(live.detail()).toMatchObject({ text: 'réd\nnext\nline ok\n', bytes: bytes.length, callId: 'c1', tool: 'shell' });
  });

  it('scrubs secrets like tool output, and holds back one still arriving', () => {
    let now = 0;
    const env = { MY_API_KEY: 'sk-live-0123456789abcdef', PATH: '/usr/bin' };
    const live = new LiveText({ activity: 'modelStep', role: 'solver', attempt: 1 }, env, () => now);
    live.text('the key is sk-live-0123');
    expect(live.detail()!.text).toBe('the key is ');
    now += LIVE_RECOMPUTE_MS;
    live.text('456789abcdef, done');
    expect(live.detail()!.text).toBe('the key is [REDACTED:MY_API_KEY], done');
  });

  it('is recomputed at most every LIVE_RECOMPUTE_MS', () => {
    let now = 1000;
    const live = new LiveText({ activity: 'modelStep', role: 'solver', attempt: 1 }, {}, () => now);
    live.text('a');
    const first = live.detail();
    live.text('b');
    expect(live.detail()).toBe(first);
    now += LIVE_RECOMPUTE_MS - 1;
    expect(live.detail()!.text).toBe('a');
    now += 1;
    expect(live.detail()!.text).toBe('ab');
  });

  it("watch's line view prints each new line once as the window slides", () => {
    expect(appended('abcdef', 'defgh')).toEqual({ text: 'gh', gap: false });
    expect(appended('abc', 'abcd')).toEqual({ text: 'd', gap: false });
    expect(appended('abc', 'xyz')).toEqual({ text: 'xyz', gap: true });
    const p = (text: string, bytes: number): LivePartial => ({
      v: 1,
      activity: 'runToolCall',
      role: 'solver',
      attempt: 1,
      callId: 'c',
      tool: 'shell',
      text,
      bytes,
      at: '',
      activityId: '3',
      heartbeatAt: null,
    });
    const lines = new LiveLines();
    expect(lines.feed([p('one\ntw', 6)])).toEqual(['~ solver shell c: one']);
    expect(lines.feed([p('ne\ntwo\nthr', 10)])).toEqual(['~ solver shell c: two']);
    expect(lines.feed([])).toEqual(['~ solver shell c: thr']);
  });
});

describe('the model step heartbeats the streamed text (both wire APIs)', () => {
  const TEXT = 'Let me look at this closely. '.repeat(120);
  const call = { name: 'shell', arguments: { command: ['ls', '-la'] } };
  const LIVE = `${TEXT}\n[call shell] ${JSON.stringify(call.arguments)}`;

  async function heartbeats(baseURL: string, v: (typeof WIRE_VARIANTS)[number]): Promise<unknown[]> {
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
    const details: unknown[] = [];
    env.on('heartbeat', (d: unknown) => details.push(d));
    await env.run(() => callModel(endpointFor(baseURL, v), wireRequest(v.stream), { runId: 'run-live', role: 'solver', purpose: 'turn' }));
    return details;
  }

  it.each(WIRE_VARIANTS)('$wireApi, stream $stream', async (v) => {
    const server = await startFakeModelServer({ responder: () => ({ kind: 'tool_calls', text: TEXT, calls: [call], streamGapMs: 40 }) });
    try {
      const details = await heartbeats(server.baseUrl, v);
      expect(details.length).toBeGreaterThan(0);
      const live = details.filter(isLiveDetail) as LiveDetail[];
      if (!v.stream) {
        // Nothing streams: the heartbeats carry no details, the live view shows nothing.
        expect(details.every((d) => d === undefined)).toBe(true);
        return;
      }
      expect(live.length).toBeGreaterThan(1);
      for (const d of live) {
        expect(d).toMatchObject({ v: 1, activity: 'modelStep', role: 'solver', attempt: 1 });
        expect(bytesOf(d.text)).toBeLessThanOrEqual(MAX_LIVE_TEXT_BYTES);
        expect(LIVE.includes(d.text)).toBe(true);
      }
      expect(new Set(live.map((d) => d.text)).size).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });

  it('stays within 2 KiB for a 1 MB streamed reply', async () => {
    const big = Array.from({ length: 10_000 }, (_, i) => `L${String(i).padStart(6, '0')} ${'y'.repeat(92)}\n`).join('');
    const server = await startFakeModelServer({ responder: () => ({ ...say(big), streamGapMs: 30 }) });
    try {
      const live = (await heartbeats(server.baseUrl, { wireApi: 'responses', stream: true })).filter(isLiveDetail) as LiveDetail[];
      expect(live.length).toBeGreaterThan(2);
      for (const d of live) {
        expect(bytesOf(d.text)).toBeLessThanOrEqual(MAX_LIVE_TEXT_BYTES);
        expect(big.includes(d.text)).toBe(true);
      }
      expect(Math.max(...live.map((d) => d.bytes))).toBeGreaterThan(500_000);
    } finally {
      await server.close();
    }
  });
});

const SECRET_NAME = 'INFTY_LIVE_TEST_TOKEN';
const SECRET = 'live-view-secret-6d1f0a';

/** `watch --json` output: one JSON document per line. */
function jsonLines(stdout: string): Record<string, any>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

/** Encoded size of a history (what Temporal stores), and of its first `n` events. */
function historyBytes(events: temporal.api.history.v1.IHistoryEvent[], n = events.length): number {
  return temporal.api.history.v1.History.encode({ events: events.slice(0, n) }).finish().length;
}

describe('infty watch shows what runs, from heartbeat details', () => {
  let h: Harness;
  let quiet: Harness;
  let script: RoleScriptResponder;
  let quietScript: RoleScriptResponder;
  let env: Record<string, string>;

  beforeAll(async () => {
    process.env[SECRET_NAME] = SECRET; // a secret of the (in-process) worker
    h = await startHarness({ responder: (req) => script(req) });
    // The same runs on an endpoint that does not stream: no partial text, nothing else differs.
    quiet = await startHarness({ responder: (req) => quietScript(req), stream: false });
    env = cliEnv(h);
  });
  afterAll(async () => {
    await h?.close();
    await quiet?.close();
    delete process.env[SECRET_NAME];
  });

  it('watch --json: partial lines with the growing text of a long model stream, then the events and the outcome', async () => {
    const TEXT = Array.from({ length: 24 }, (_, i) => `Step ${String(i + 1).padStart(2, '0')}: reading the files and thinking it over.`).join('\n');
    const patch = addFile('deliverable/a.txt', ['a']);
    const watching = gate(1);
    script = scriptByRole({
      solver: [
        async () => {
          await watching.opened;
          return { kind: 'tool_calls', text: TEXT, calls: [patch], streamGapMs: 400 };
        },
        deliver('deliverable/a.txt', 'streamed'),
      ],
    });
    const runId = uniqueId('live-model');
    await h.infty.startRun({ runId, objective: 'Stream a long step', verifiers: [], sandbox: 'none', tokenBudget: 1_000_000 });
    const r = await runCli(['watch', runId, '--json'], env, 90_000, { onStdout: () => watching.seen('json') });
    expect(r.code, r.stderr).toBe(0);
    const docs = jsonLines(r.stdout);
    const full = `${TEXT}\n[call apply_patch] ${JSON.stringify(patch.arguments)}`;
    const partials = docs.filter((d) => d.type === 'partial');
    expect(partials.length, r.stdout).toBeGreaterThanOrEqual(3);
    for (const p of partials) {
      expect(p).toMatchObject({ role: 'solver', activity: 'modelStep', attempt: 1, activityId: expect.any(String), bytes: expect.any(Number) });
      expect(Date.parse(p.at)).not.toBeNaN();
      expect(full.startsWith(p.text), p.text).toBe(true);
    }
    const lengths = partials.map((p) => p.text.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(new Set(lengths).size).toBeGreaterThanOrEqual(3);
    expect(lengths[0]).toBeLessThan(TEXT.length); // seen while the model was still writing
    expect(docs.some((d) => d.type === 'phase' && d.phase === 'solving')).toBe(true);
    expect(docs.some((d) => d.type === 'event' && d.kind === 'tool_call' && typeof d.seq === 'number')).toBe(true);
    expect(docs[docs.length - 1]).toMatchObject({ type: 'outcome', outcome: { runId, status: 'delivered', summary: 'streamed' } });
  }, 120_000);

  it("watch shows the tail of a running command's output (JSON and lines), secrets scrubbed", async () => {
    const cmd = `echo key=${SECRET}; for i in $(seq 1 16); do echo "tick $i of 16"; sleep 0.4; done; mkdir -p deliverable; echo ok > deliverable/t.txt`;
    const watching = gate(2);
    script = scriptByRole({
      solver: [
        async () => {
          await watching.opened;
          return { kind: 'tool_calls', calls: [{ callId: 'call_ticks', name: 'shell', arguments: { command: ['bash', '-c', cmd] } }] };
        },
        deliver('deliverable/t.txt', 'ticked'),
      ],
    });
    const runId = uniqueId('live-shell');
    await h.infty.startRun({ runId, objective: 'Tick', verifiers: [], sandbox: 'none', tokenBudget: 1_000_000 });
    const [json, plain] = await Promise.all([
      runCli(['watch', runId, '--json'], env, 90_000, { onStdout: () => watching.seen('json') }),
      runCli(['watch', runId], env, 90_000, { onStdout: () => watching.seen('plain') }),
    ]);
    expect(json.code, json.stderr).toBe(0);
    // (The tool_call event quotes the command as the model wrote it: the secret is there, not in the live view.)
    const liveLines = plain.stdout.split('\n').filter((l) => l.startsWith('~ '));
    expect(liveLines.join('\n')).not.toContain(SECRET);

    const partials = jsonLines(json.stdout).filter((d) => d.type === 'partial');
    const output = `key=[REDACTED:${SECRET_NAME}]\n${Array.from({ length: 16 }, (_, i) => `tick ${i + 1} of 16\n`).join('')}`;
    expect(partials.length, json.stdout).toBeGreaterThanOrEqual(3);
    for (const p of partials) {
      expect(p.text).not.toContain(SECRET);
      expect(p).toMatchObject({ role: 'solver', activity: 'runToolCall', tool: 'shell', callId: 'call_ticks', attempt: 1 });
      expect(output.startsWith(p.text), p.text).toBe(true);
    }
    expect(new Set(partials.map((p) => p.text)).size).toBeGreaterThanOrEqual(3);

    // Without a terminal: each line of the output once, as it completes.
    expect(plain.code, plain.stderr).toBe(json.code);
    expect(plain.stdout).toContain(`~ solver shell call_ticks: key=[REDACTED:${SECRET_NAME}]\n`);
    for (let i = 1; i <= 8; i++) {
      expect(plain.stdout.split(`~ solver shell call_ticks: tick ${i} of 16\n`).length - 1, plain.stdout).toBe(1);
    }
  }, 120_000);

  it('does not grow history: a 1 MB streamed step adds what the same step adds without streaming', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `L${String(i).padStart(6, '0')} ${'x'.repeat(90)}`);
    const usage = { inputTokens: 2_000, cachedInputTokens: 0, outputTokens: 100, reasoningTokens: 0 };
    const replies = (): ScriptedReply[] => [
      { kind: 'tool_calls', calls: [addFile('deliverable/big.txt', lines)], streamGapMs: 500, usage },
      withUsage(deliver('deliverable/big.txt', 'big'), usage),
    ];
    script = scriptByRole({ solver: replies() });
    quietScript = scriptByRole({ solver: replies() });
    const input = { objective: 'Write a big file', verifiers: [], sandbox: 'none' as const, tokenBudget: null };
    const n = uniqueId('x').slice(2);
    const streamedId = `live-hist-s-${n}`;
    const quietId = `live-hist-q-${n}`;

    // The streamed run, its pending model step read as `watch` reads it while it runs.
    await h.infty.startRun({ ...input, runId: streamedId });
    const seen: LivePartial[] = [];
    let duringStep: { events: number; bytes: number } | undefined;
    for (;;) {
      const d = await h.infty.describe(streamedId);
      if (d.status.name !== 'RUNNING') break;
      const partials = (await livePartials(h.infty, d)).filter((p) => p.activity === 'modelStep');
      if (partials.length && !duringStep) {
        const events = (await h.client.workflow.getHandle(streamedId).fetchHistory()).events ?? [];
        duringStep = { events: events.length, bytes: historyBytes(events) };
      }
      seen.push(...partials);
      await sleep(250);
    }
    await quiet.infty.startRun({ ...input, runId: quietId });
    expect((await quiet.infty.result(quietId)).status).toBe('delivered');
    expect((await h.infty.result(streamedId)).status).toBe('delivered');

    // Bounded, and really live: the partials moved through the stream.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const p of seen) expect(bytesOf(p.text)).toBeLessThanOrEqual(MAX_LIVE_TEXT_BYTES);
    expect(Math.max(...seen.map((p) => p.bytes))).toBeGreaterThan(300_000);
    const markers = new Set(seen.flatMap((p) => [...p.text.matchAll(/L(\d{6}) /g)].map((m) => m[0])).filter((m) => Number(m.slice(1, 7)) >= 50));
    expect(markers.size).toBeGreaterThan(2);

    // None of what was streamed is in history (no attempt timed out, so no last-heartbeat field holds any).
    const streamed = (await h.client.workflow.getHandle(streamedId).fetchHistory()).events ?? [];
    const plain = (await quiet.client.workflow.getHandle(quietId).fetchHistory()).events ?? [];
    expect(streamed.filter((e) => e.activityTaskTimedOutEventAttributes).length).toBe(0);
    const text = await decodedHistoryText(h.client, streamedId);
    for (const m of markers) expect(text, m).not.toContain(m);

    // The same events as without streaming; the bytes differ only by ids, times and paths.
    const typesOf = (events: typeof streamed) => events.map((e) => e.eventType);
    expect(typesOf(streamed)).toEqual(typesOf(plain));
    const [streamedBytes, plainBytes] = [historyBytes(streamed), historyBytes(plain)];
    expect(Math.abs(streamedBytes - plainBytes)).toBeLessThan(1024);

    // Before and after the streamed step (its scheduled and completed events).
    const stepDone = streamed.findIndex(
      (e) =>
        !!e.activityTaskCompletedEventAttributes &&
        Buffer.from(e.activityTaskCompletedEventAttributes.result?.payloads?.[0]?.data ?? [])
          .toString('utf8')
          .includes('argumentsInTranscript'),
    );
    const scheduledId = Number(streamed[stepDone]!.activityTaskCompletedEventAttributes!.scheduledEventId);
    const scheduledAt = streamed.findIndex((e) => Number(e.eventId) === scheduledId);
    const before = historyBytes(streamed, scheduledAt + 1);
    const after = historyBytes(streamed, stepDone + 1);
    const streamedBytesTotal = Math.max(...seen.map((p) => p.bytes));
    console.log(
      `live view history figures: a ${streamedBytesTotal.toLocaleString('en-US')}-byte streamed model step (tool-call arguments); ` +
        `history before the step ${before.toLocaleString('en-US')} bytes (${scheduledAt + 1} events), after it ${after.toLocaleString('en-US')} bytes (${stepDone + 1} events); ` +
        `while it streamed ${duringStep?.bytes.toLocaleString('en-US')} bytes (${duringStep?.events} events); ` +
        `whole run streamed ${streamedBytes.toLocaleString('en-US')} bytes / ${streamed.length} events, the same run not streamed ${plainBytes.toLocaleString('en-US')} bytes / ${plain.length} events`,
    );
    expect(after - before).toBeLessThan(8 * 1024);
  }, 180_000);
});
