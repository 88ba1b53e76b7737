/** Helpers for the MCP tests (test/mcp*.test.ts). */
import { join } from 'node:path';
import type { RecordedRequest } from './fakeModel';

export const MCP_TEST_SERVER = join(__dirname, 'mcpTestServer.mjs');

/** Every tool output the run's Solver was shown (in its last request), with the tool's name, in call order. */
export function solverOutputs(requests: RecordedRequest[], runId: string): { name: string; output: string }[] {
  const solver = requests.filter((r) => r.runId === runId && r.role === 'solver' && r.purpose !== 'compaction');
  const last = solver[solver.length - 1];
  const input = (last?.body?.input ?? []) as { type?: string; call_id?: string; name?: string; output?: string }[];
  const names = new Map(input.filter((i) => i.type === 'function_call').map((i) => [i.call_id, i.name ?? '']));
  return input.filter((i) => i.type === 'function_call_output').map((i) => ({ name: names.get(i.call_id) ?? '?', output: String(i.output) }));
}

/** The tools a request offered: name and strict flag. */
export function offered(req: RecordedRequest | undefined): { name: string; strict?: boolean }[] {
  return ((req?.body?.tools ?? []) as { name: string; strict?: boolean }[]).map((t) => ({ name: t.name, strict: t.strict }));
}
