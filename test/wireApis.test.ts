import { describe, expect, it } from 'vitest';
import { startHarness } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools, verdict, withUsage } from './support/replies';

const variants = [
  { wireApi: 'responses', stream: false },
  { wireApi: 'chat', stream: true },
  { wireApi: 'chat', stream: false },
] as const;

describe.each(variants)('wire API $wireApi (stream: $stream)', ({ wireApi, stream }) => {
  it('drives a run with tool calls, verification and usage through the real openai client', async () => {
    const script = scriptByRole({
      solver: [
        tools(addFile('deliverable/out.txt', ['hello']), { name: 'list_dir', arguments: { path: 'deliverable' } }),
        withUsage(deliver('deliverable/out.txt', 'wrote it'), { inputTokens: 1000, cachedInputTokens: 600, outputTokens: 50 }),
      ],
      'verifier-alpha': [tools({ name: 'read_file', arguments: { path: 'deliverable/out.txt' } }), verdict('pass', ['has hello'])],
    });
    const h = await startHarness({ responder: script, wireApi, stream });
    try {
      const { runId, outcome } = await h.run({ objective: 'Say hello', verifiers: ['verifier-alpha'] });
      expect(outcome).toMatchObject({ status: 'delivered', summary: 'wrote it' });
      const solver = h.model.requestsFor('solver');
      expect(solver.every((r) => r.wire === wireApi && r.stream === stream)).toBe(true);
      expect(solver[0]!.body.prompt_cache_key).toBe(`${runId}:solver`);
      if (wireApi === 'chat') {
        const messages = solver[1]!.body.messages;
        expect(messages[0].role).toBe('system');
        expect(messages[1]).toEqual({ role: 'user', content: 'Say hello' });
        expect(messages[2].role).toBe('assistant');
        expect(messages[2].tool_calls).toHaveLength(2);
        expect(messages.slice(3).map((m: { role: string }) => m.role)).toEqual(['tool', 'tool']);
        expect(messages[4].content).toMatch(/out\.txt/);
        expect(solver[0]!.body.response_format.json_schema.name).toBe('solver_signal');
        expect(solver[0]!.body.tools[0].type).toBe('function');
        if (stream) expect(solver[0]!.body.stream_options).toEqual({ include_usage: true });
      } else {
        expect(solver[0]!.body.instructions).toMatch(/Solver/);
        expect(solver[1]!.body.input.map((i: { type?: string; role?: string }) => i.type ?? i.role)).toEqual([
          'user',
          'function_call',
          'function_call',
          'function_call_output',
          'function_call_output',
        ]);
      }
      const progress = await h.infty.progress(runId);
      expect(progress.roles.solver!.cachedInputTokens).toBeGreaterThanOrEqual(600);
      expect(progress.roles['verifier-alpha']!.toolCalls).toBe(1);
    } finally {
      await h.close();
    }
  });
});
