/**
 * Bounded payloads: tool outputs go by reference (never through workflow history), model text and
 * tool-call arguments are bounded in what the workflow sees, and no payload nears Temporal's
 * limits however large the outputs, answers or arguments. Checked on decoded history.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, MAX_RESULT_TEXT_BYTES } from '../src/protocol/payloadLimits';
import { useHarness } from './support/harness';
import { decodedPayloads } from './support/history';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, say, shell, tools } from './support/replies';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('bounded payloads', () => {
  const t = useHarness();

  it('tool outputs reach the model but never workflow history, however large', async () => {
    // The markers are built by the commands, so they appear in outputs only, never in arguments.
    const marker = 'OUTPUT-MARKER';
    t.responder = scriptByRole({
      solver: [
        tools(
          shell(
            `for i in $(seq 1 2000); do echo OUTPUT-MARK""ER-$i; done; head -c 6000000 /dev/zero | tr '\\0' 'x' > big.txt; mkdir many; cd many && seq 1 3000 | xargs touch`,
          ),
        ),
        tools({ name: 'read_file', arguments: { path: 'big.txt' } }, { name: 'list_dir', arguments: { path: 'many' } }, shell(`echo OUTPUT-MARK""ER-again`)),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
    });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const second = t.h.model.requests.filter((r) => r.runId === runId)[1]!;
    expect(JSON.stringify(second.body.input)).toContain(`${marker}-1`); // the model saw it
    const payloads = await decodedPayloads(t.h.client, runId);
    const history = payloads.join('\n');
    expect(history).not.toContain(`${marker}-1`);
    expect(history).not.toContain(`${marker}-again`);
    expect(history).not.toContain('xxxxxxxxxxxxxxxx');
    expect(Math.max(...payloads.map(bytes))).toBeLessThan(16 * 1024);
  });

  it('a model that answers megabytes: the run goes on, the workflow sees a bounded, marked text', async () => {
    const huge = `${'lorem ipsum '.repeat(300_000)}THE-END`;
    const script = scriptByRole({ solver: [say(huge), tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] });
    // A megabyte answer is ~900k tokens: the next step compacts first.
    t.responder = (req) => (req.purpose === 'compaction' ? say('Summary: the Solver wrote a very long answer.') : script(req));
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    const payloads = await decodedPayloads(t.h.client, runId);
    expect(Math.max(...payloads.map(bytes))).toBeLessThan(MAX_RESULT_TEXT_BYTES + 16 * 1024);
    expect(payloads.some((p) => p.includes('bytes truncated') && p.includes('THE-END'))).toBe(true);
    // The transcript keeps the whole answer.
    const transcript = readFileSync(join(t.h.home, 'transcripts', runId, 'solver.jsonl'), 'utf8');
    expect(transcript).toContain(huge);
  });

  it('tool-call arguments too large for history are read from the transcript: a 2 MB file written by apply_patch arrives whole', async () => {
    const line = 'z'.repeat(999);
    const lines = Array.from({ length: 2_000 }, () => line);
    t.responder = scriptByRole({ solver: [tools(addFile('deliverable/big.txt', lines)), deliver('deliverable/big.txt')] });
    const { runId, outcome } = await t.h.run({ objective: 'x', verifiers: [] });
    expect(outcome.status).toBe('delivered');
    expect(statSync(join(t.h.runsRoot, runId, 'deliverable', 'big.txt')).size).toBe(2_000 * 1_000);
    const payloads = await decodedPayloads(t.h.client, runId);
    expect(Math.max(...payloads.map(bytes))).toBeLessThan(16 * 1024);
  });

  it('every payload stays under the one cap, far below Temporal limits', () => {
    expect(MAX_PAYLOAD_BYTES).toBeLessThanOrEqual(512 * 1024);
  });
});
