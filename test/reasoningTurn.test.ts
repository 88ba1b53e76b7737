/**
 * Reasoning continuity through a whole run (issue 12, item 1): the Solver's reasoning items are kept
 * in its transcript in order and sent back with every later request of the turn, each request an
 * exact prefix extension of the one before, on both wire APIs, streaming and not.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { transcriptPath } from '../src/activities/transcripts';
import type { ScriptedReply } from './support/fakeModel';
import { startHarness } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { prefixViolation } from './support/prefix';
import { addFile, deliver, verdict } from './support/replies';
import { WIRE_VARIANTS } from './support/wireCall';

const thinking = (reply: ScriptedReply, ...reasoning: string[]): ScriptedReply => ({ ...reply, reasoning }) as ScriptedReply;

describe.each(WIRE_VARIANTS)('reasoning across a multi-tool turn ($wireApi, stream: $stream)', ({ wireApi, stream }) => {
  it('is kept in order and sent back with every later request, as an exact prefix extension', async () => {
    const script = scriptByRole({
      solver: [
        thinking({ kind: 'tool_calls', calls: [addFile('deliverable/out.txt', ['hello'])] }, 'Plan: write the file first.'),
        thinking(
          {
            kind: 'tool_calls',
            calls: [
              { name: 'read_file', arguments: { path: 'deliverable/out.txt' } },
              { name: 'list_dir', arguments: { path: 'deliverable' } },
            ],
          },
          'Check the file.',
          'And list the directory.',
        ),
        thinking(deliver('deliverable/out.txt', 'wrote it'), 'All done.'),
      ],
      'verifier-alpha': [verdict('pass', ['has hello'])],
    });
    const h = await startHarness({ responder: script, wireApi, stream });
    try {
      const { runId, outcome } = await h.run({ objective: 'Say hello', verifiers: ['verifier-alpha'] });
      expect(outcome).toMatchObject({ status: 'delivered' });
      const solver = h.model.requestsFor('solver');
      expect(solver).toHaveLength(3);
      expect(solver.every((r) => r.status === 'completed')).toBe(true);
      expect(prefixViolation(solver)).toBeUndefined();

      if (wireApi === 'responses') {
        expect(solver.every((r) => r.body.store === false)).toBe(true);
        expect(solver[0]!.body.include).toEqual(['reasoning.encrypted_content']);
        const shape = (r: (typeof solver)[number]) =>
          r.body.input.map((i: { type?: string; role?: string; id?: string }) => (i.type === 'reasoning' ? `reasoning:${i.id}` : (i.type ?? i.role)));
        expect(shape(solver[2]!)).toEqual([
          'user',
          `reasoning:rs_${solver[0]!.seq}_0`,
          'function_call',
          'function_call_output',
          `reasoning:rs_${solver[1]!.seq}_0`,
          `reasoning:rs_${solver[1]!.seq}_1`,
          'function_call',
          'function_call',
          'function_call_output',
          'function_call_output',
        ]);
        const sent = solver[2]!.body.input[1];
        expect(sent).toEqual({
          type: 'reasoning',
          id: `rs_${solver[0]!.seq}_0`,
          encrypted_content: expect.stringMatching(/^fake-enc:/),
          summary: [{ type: 'summary_text', text: 'Plan: write the file first.' }],
        });
      } else {
        const assistants = solver[2]!.body.messages.filter((m: { role: string }) => m.role === 'assistant');
        expect(assistants.map((m: { reasoning_content?: string }) => m.reasoning_content)).toEqual([
          'Plan: write the file first.',
          'Check the file.\nAnd list the directory.',
        ]);
      }

      const lines = readFileSync(transcriptPath(h.home, runId, 'solver', 0), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; role?: string; summary?: string[] })
        .filter((i) => i.type !== 'step_end');
      const kinds = lines.map((i) => (i.type === 'message' ? `${i.role}` : i.type));
      const reasoning = wireApi === 'chat' ? ['reasoning'] : ['reasoning', 'reasoning'];
      const expected = [
        'instructions',
        'user',
        'reasoning',
        'function_call',
        'function_call_output',
        ...reasoning,
        'function_call',
        'function_call',
        'function_call_output',
        'function_call_output',
        'reasoning',
        'assistant',
      ];
      expect(kinds.slice(0, expected.length)).toEqual(expected);
    } finally {
      await h.close();
    }
  });
});
