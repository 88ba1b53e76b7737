/** Baseline workflows for the benchmarks: the floor (no-op activities in sequence) and a naive agent loop. */
import { proxyActivities } from '@temporalio/workflow';

export interface FloorActivities {
  noop(): Promise<void>;
}

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1 minute' });

/** The floor: `n` no-op activities in sequence. */
export async function floorWorkflow(n: number): Promise<number> {
  for (let i = 0; i < n; i++) await noop();
  return n;
}
