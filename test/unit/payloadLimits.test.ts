import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PayloadGuard } from '../../src/activities/payloadGuard';
import { jsonBytes, MAX_PAYLOAD_BYTES, payloadTooLarge } from '../../src/protocol/payloadLimits';

const guard = () => new PayloadGuard({ info: { activityType: 'modelStep' } } as never);

describe('the payload cap', () => {
  it('measures UTF-8 bytes of the JSON encoding, surrogate pairs and all', () => {
    expect(jsonBytes('é')).toBe(4); // "é" → quotes + 2 bytes
    expect(jsonBytes('😀')).toBe(6);
    expect(jsonBytes(undefined)).toBe(0);
    expect(jsonBytes({ a: 'x'.repeat(10) })).toBe(Buffer.byteLength(JSON.stringify({ a: 'x'.repeat(10) })));
  });

  it('says what is too large and by how much; accepts what fits exactly', () => {
    const fits = 'x'.repeat(MAX_PAYLOAD_BYTES - 2);
    expect(payloadTooLarge('the result', fits)).toBeUndefined();
    expect(payloadTooLarge('the result', `${fits}x`)).toMatch(/the result is 262145 bytes, more than the 262144 bytes/);
  });

  it('the activity interceptor refuses an oversized result with a non-retryable PayloadTooLarge, and passes others through', async () => {
    await expect(guard().execute({ args: [{}], headers: {} }, async () => 'ok')).resolves.toBe('ok');
    const err = await guard()
      .execute({ args: [{}], headers: {} }, async () => 'y'.repeat(MAX_PAYLOAD_BYTES + 1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('PayloadTooLarge');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toMatch(/result of activity modelStep/);
  });

  it('the activity interceptor refuses an oversized input before running the activity', async () => {
    let ran = false;
    const err = await guard()
      .execute({ args: ['z'.repeat(MAX_PAYLOAD_BYTES + 10)], headers: {} }, async () => {
        ran = true;
        return 'ok';
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect((err as ApplicationFailure).type).toBe('PayloadTooLarge');
  });
});
