/**
 * Baseline workflows for the benchmarks (bundled separately from inftyRun):
 * - the floor: no-op activities in sequence, the least a Temporal workflow can do per activity;
 * - a naive agent loop: the design most peers use, passing the whole conversation through every
 *   "model" activity and getting it back, so the conversation lives in workflow history.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface FloorActivities {
  noop(): Promise<void>;
}

/** One conversation item of the naive loop (the shape of the Responses API input items). */
export type NaiveItem =
  | { type: 'message'; role: 'user' | 'assistant'; text: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'function_call_output'; callId: string; output: string };

export interface NaiveActivities {
  /** The whole conversation in, the whole conversation (plus the model's output) back. */
  naiveModel(input: { runId: string; turn: number; maxTurns: number; conversation: NaiveItem[] }): Promise<NaiveItem[]>;
  naiveTool(input: { runId: string; call: { callId: string; name: string; arguments: string } }): Promise<string>;
}

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

const naive = proxyActivities<NaiveActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 1 },
});

/** The floor: `n` no-op activities in sequence. */
export async function floorWorkflow(n: number): Promise<number> {
  for (let i = 0; i < n; i++) await noop();
  return n;
}

/** The naive agent loop: model step ⇄ tool call until the model answers without a tool call. */
export async function naiveAgentWorkflow(input: { runId: string; objective: string; maxTurns: number }): Promise<{ turns: number }> {
  let conversation: NaiveItem[] = [{ type: 'message', role: 'user', text: input.objective }];
  for (let turn = 1; ; turn++) {
    conversation = await naive.naiveModel({ runId: input.runId, turn, maxTurns: input.maxTurns, conversation });
    const last = conversation[conversation.length - 1]!;
    if (last.type !== 'function_call') return { turns: turn - 1 };
    const output = await naive.naiveTool({ runId: input.runId, call: last });
    conversation.push({ type: 'function_call_output', callId: last.callId, output });
  }
}
