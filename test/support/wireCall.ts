/** Calls the model activity's wire layer (callModel) directly, in a mock activity context, without a workflow. */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { callModel, type ModelEndpoint } from '../../src/activities/wire/call';
import type { WireRequest, WireResult } from '../../src/activities/wire/types';

export const WIRE_VARIANTS = [
  { wireApi: 'responses', stream: false },
  { wireApi: 'responses', stream: true },
  { wireApi: 'chat', stream: false },
  { wireApi: 'chat', stream: true },
] as const;

export type WireVariant = (typeof WIRE_VARIANTS)[number];

export const RUN_ID = 'run-wire-edges';

export function endpointFor(baseURL: string, v: WireVariant): ModelEndpoint {
  return { baseURL, apiKey: 'test-key', wireApi: v.wireApi, stream: v.stream };
}

export function wireRequest(stream: boolean, over: Partial<WireRequest> = {}): WireRequest {
  return {
    model: 'fake-model',
    instructions: 'You are the Solver. Work in small steps, run the tests, and report what you changed.',
    items: [
      { type: 'message', role: 'user', text: 'Count the lines of README.md and tell me the number, please.' },
      { type: 'function_call', callId: 'call_1', name: 'shell', arguments: '{"command":["wc","-l","README.md"]}' },
      { type: 'function_call_output', callId: 'call_1', output: '42 README.md\n' },
    ],
    tools: [],
    outputSchema: null,
    promptCacheKey: `${RUN_ID}:solver`,
    stream,
    ...over,
  };
}

/** callModel's result, or what it threw. */
export async function callWire(endpoint: ModelEndpoint, request: WireRequest): Promise<WireResult> {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  return env.run(() => callModel(endpoint, request, { runId: RUN_ID, role: 'solver', purpose: 'turn' }));
}

/** The ApplicationFailure `p` rejects with (anything else fails the test). */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const outcome = await p.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.err instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(outcome.err)}`);
  return outcome.err;
}
