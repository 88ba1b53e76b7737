import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { isTransientServiceError, retryTransient } from '../../src/cli/transient';

const grpc = (code: number, details: string) => Object.assign(new Error(details), { code, details });

describe('transient Temporal errors while following a run', () => {
  it('retries DEADLINE_EXCEEDED / UNAVAILABLE answers, not a missing workflow', async () => {
    let calls = 0;
    const value = await retryTransient(async () => {
      calls += 1;
      if (calls < 3) throw new ServiceError('Failed to describe workflow', { cause: grpc(4, 'context deadline exceeded') });
      return 'described';
    });
    expect(value).toBe('described');
    expect(calls).toBe(3);
    expect(isTransientServiceError(new ServiceError('x', { cause: grpc(5, 'not found') }))).toBe(false);
    expect(isTransientServiceError(new Error('x'))).toBe(false);
  });
});
