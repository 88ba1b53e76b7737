import type { RecordedRequest } from '../../../src/fakeModel/types';

/** A request as the scripted model server records it, for its validators. */
export const recordedRequest = (wire: 'chat' | 'responses', body: unknown): RecordedRequest => ({
  seq: 1,
  path: wire === 'chat' ? '/v1/chat/completions' : '/v1/responses',
  wire,
  headers: {},
  body,
  stream: false,
});
