import { describe, expect, it } from 'vitest';
import { validateRequest } from '../../src/fakeModel/validate';
import { recordedRequest } from './support/recordedRequest';

const rec = recordedRequest;

describe('the fake model server validates requests', () => {
  it('accepts well-formed requests', () => {
    expect(validateRequest(rec('chat', { model: 'm', messages: [], prompt_cache_key: 'k' }))).toBeNull();
    expect(validateRequest(rec('responses', { model: 'm', input: 'x', prompt_cache_key: 'k' }), ['prompt_cache_key'])).toBeNull();
  });

  it('rejects a missing model, missing messages, and Chat fields it was told it does not know', () => {
    expect(validateRequest(rec('responses', { input: 'x' }))).toMatchObject({ param: 'model' });
    expect(validateRequest(rec('chat', { model: 'm' }))).toMatchObject({ param: 'messages' });
    expect(validateRequest(rec('chat', { model: 'm', messages: [], prompt_cache_key: 'k' }), ['prompt_cache_key'])).toEqual({
      message: 'Unrecognized request argument supplied: prompt_cache_key',
      param: 'prompt_cache_key',
      code: 'unrecognized_argument',
    });
  });
});
