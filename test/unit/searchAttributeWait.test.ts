import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { isSearchAttributePending, whileSearchAttributesPending } from '../../src/host/searchAttributeWait';

const grpc = (code: number, details: string) => Object.assign(new Error(details), { code, details });
/** What a frontend answers a start in the seconds after registration, before its namespace cache refreshes. */
const notMappedYet = () =>
  new ServiceError('Failed to start Workflow', { cause: grpc(3, 'Namespace ns has no mapping defined for search attribute InftyGoalStatus') });

/** A probe Temporal refuses `refusals` times, then accepts. */
function refusing(refusals: number, refusal: () => Error = notMappedYet) {
  const probe = { calls: 0, attempt: async () => (++probe.calls <= refusals ? Promise.reject(refusal()) : 'accepted') };
  return probe;
}

describe('waiting until registered search attributes take effect', () => {
  it('retries while Temporal refuses an Infty search attribute, saying so once when it starts and once when it ends', async () => {
    const probe = refusing(3);
    const lines: string[] = [];
    const value = await whileSearchAttributesPending(probe.attempt, { namespace: 'ns', intervalMs: 5, onWaiting: (l) => lines.push(l) });
    expect(value).toBe('accepted');
    expect(probe.calls).toBe(4);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/does not apply the search attributes of namespace ns yet .*waiting up to 60 s/);
    expect(lines[1]).toMatch(/^the search attributes are in effect after \d+\.\d s$/);
  });

  it('is quiet when they are in effect already', async () => {
    const lines: string[] = [];
    await whileSearchAttributesPending(refusing(0).attempt, { namespace: 'ns', onWaiting: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  it('is bounded: after the timeout the refusal is thrown', async () => {
    const probe = refusing(Number.POSITIVE_INFINITY);
    const started = Date.now();
    await expect(whileSearchAttributesPending(probe.attempt, { namespace: 'ns', timeoutMs: 300, intervalMs: 20 })).rejects.toSatisfy(isSearchAttributePending);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(probe.calls).toBeGreaterThan(3);
  });

  it('does not retry other refusals, nor other search attributes', async () => {
    for (const refusal of [
      () => grpc(14, 'connection refused'),
      () => grpc(3, 'taskQueue length exceeds limit'),
      () => grpc(3, 'Namespace ns has no mapping defined for search attribute CustomerId'),
    ]) {
      const probe = refusing(1, refusal);
      await expect(whileSearchAttributesPending(probe.attempt, { namespace: 'ns', intervalMs: 5 })).rejects.toThrow();
      expect(probe.calls).toBe(1);
    }
  });

  it('knows the visibility query’s words for the same refusal', () => {
    expect(isSearchAttributePending(grpc(3, 'invalid query: invalid search attribute: InftyPhase'))).toBe(true);
    expect(isSearchAttributePending(grpc(3, 'invalid query: malformed SQL query'))).toBe(false);
  });
});
