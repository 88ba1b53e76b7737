import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { mayRejectPromptCacheKey } from '../../src/activities/wire/promptCacheKey';

const generate = (status: number, body: object) => OpenAI.APIError.generate(status, body, undefined, new Headers());

describe('mayRejectPromptCacheKey', () => {
  it('recognizes the rejections strict servers send', () => {
    expect(mayRejectPromptCacheKey(generate(400, { error: { message: 'Unrecognized request argument supplied: prompt_cache_key' } }))).toBe(true);
    const pydantic = { message: "[{'type': 'extra_forbidden', 'loc': ('body', 'prompt_cache_key'), 'msg': 'Extra inputs are not permitted'}]" };
    expect(mayRejectPromptCacheKey(generate(400, { error: pydantic }))).toBe(true);
  });

  it('also suspects a 400/422 whose body the SDK could not read (no `error` object)', () => {
    expect(mayRejectPromptCacheKey(generate(400, { object: 'error', message: 'extra_forbidden prompt_cache_key', code: 400 }))).toBe(true);
    expect(mayRejectPromptCacheKey(generate(422, { detail: [{ type: 'extra_forbidden', loc: ['body', 'prompt_cache_key'] }] }))).toBe(true);
  });

  it('ignores other errors', () => {
    expect(mayRejectPromptCacheKey(generate(400, { error: { message: 'Unrecognized request argument supplied: top_k' } }))).toBe(false);
    expect(mayRejectPromptCacheKey(generate(500, { error: { message: 'prompt_cache_key lookup failed' } }))).toBe(false);
    expect(mayRejectPromptCacheKey(new Error('prompt_cache_key'))).toBe(false);
  });
});
