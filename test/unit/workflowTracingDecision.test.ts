/**
 * Which starts switch workflow spans on (src/workflows/tracing.ts, docs/architecture.md "Workflow
 * tracing"): only a sampled, valid W3C trace context in the start request's OpenTelemetry header.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { startedTraced } from '../../src/workflows/tracing';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const header = (carrier: unknown) => ({ '_tracer-data': defaultPayloadConverter.toPayload(carrier)! });

describe('startedTraced', () => {
  it('is true for a sampled trace context', () => {
    expect(startedTraced(header({ traceparent: `00-${TRACE}-${SPAN}-01` }))).toBe(true);
    expect(startedTraced(header({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=x' }))).toBe(true);
  });

  it('is false for what an untraced client sends: an empty carrier, or no header at all', () => {
    expect(startedTraced(header({}))).toBe(false);
    expect(startedTraced({})).toBe(false);
  });

  it('is false for a context that is not sampled or not valid', () => {
    expect(startedTraced(header({ traceparent: `00-${TRACE}-${SPAN}-00` }))).toBe(false);
    expect(startedTraced(header({ traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }))).toBe(false);
    expect(startedTraced(header({ traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }))).toBe(false);
    expect(startedTraced(header({ traceparent: 'not a traceparent' }))).toBe(false);
    expect(startedTraced(header('a string'))).toBe(false);
    expect(startedTraced(header(null))).toBe(false);
  });

  it('is false for a header that is not a JSON payload', () => {
    expect(startedTraced({ '_tracer-data': { metadata: { encoding: new TextEncoder().encode('binary/plain') }, data: new Uint8Array([1, 2, 3]) } })).toBe(
      false,
    );
    expect(
      startedTraced({ '_tracer-data': { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('{not json') } }),
    ).toBe(false);
  });
});
