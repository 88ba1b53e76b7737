import { describe, expect, it } from 'vitest';
import { autoCompactLimitOf, contextWindowOf, FALLBACK_CONTEXT_WINDOW, knownModel, normalizeModelName } from '../../src/activities/contextWindows';

describe('the model table', () => {
  it.each([
    ['gpt-5', 272_000],
    ['gpt-5.1-codex-max', 272_000],
    ['gpt-5.2-codex', 272_000],
    ['gpt-5.4-mini', 272_000],
    ['gpt-5-nano-2025-08-07', 272_000],
    ['gpt-5-chat-latest', 128_000],
    ['gpt-5.3-chat-latest', 128_000],
    ['gpt-4.1-mini', 1_047_576],
    ['gpt-4o-2024-08-06', 128_000],
    ['gpt-4o-mini', 128_000],
    ['chatgpt-4o-latest', 128_000],
    ['gpt-4-turbo', 128_000],
    ['gpt-4', 8_192],
    ['gpt-4-32k-0613', 32_768],
    ['gpt-3.5-turbo-0125', 16_385],
    ['o3', 200_000],
    ['o3-mini', 200_000],
    ['o4-mini-2025-04-16', 200_000],
    ['o1-mini', 128_000],
    ['codex-mini-latest', 200_000],
    ['gpt-oss-120b', 96_000],
    ['openai/gpt-oss-20b', 96_000],
    ['meta-llama/Llama-3.1-8B-Instruct', 131_072],
    ['llama3.3:70b', 131_072],
    ['llama3:8b', 8_192],
    ['meta-llama/Llama-4-Maverick-17B-128E-Instruct', 1_048_576],
    ['Qwen/Qwen2.5-Coder-32B-Instruct', 32_768],
    ['qwen2.5:7b', 32_768],
    ['Qwen/Qwen3-Coder-30B-A3B-Instruct', 262_144],
    ['Qwen/Qwen3-235B-A22B-Instruct-2507', 262_144],
    ['qwen3:8b', 32_768],
    ['deepseek-chat', 128_000],
    ['deepseek-ai/DeepSeek-R1', 128_000],
    ['mistral-large-latest', 131_072],
    ['mistralai/Mistral-Small-3.2-24B-Instruct-2506', 131_072],
    ['mistral-7b-instruct', 32_768],
    ['mixtral-8x7b', 32_768],
    ['codestral-latest', 262_144],
    ['google/gemma-3-27b-it', 131_072],
    ['gemma3:1b', 32_768],
    ['gemma2:9b', 8_192],
  ])('%s has a %i-token window', (model, window) => {
    expect(contextWindowOf(model)).toBe(window);
    expect(autoCompactLimitOf(model, {})).toBe(Math.floor(window * 0.9));
  });

  it('unknown models fall back as before', () => {
    expect(knownModel('fake-model')).toBeUndefined();
    expect(contextWindowOf('fake-model')).toBe(FALLBACK_CONTEXT_WINDOW);
    expect(autoCompactLimitOf('some-new-model', {})).toBe(Math.floor(FALLBACK_CONTEXT_WINDOW * 0.9));
  });

  it('configuration overrides the table: an explicit limit, else 90% of an explicit window', () => {
    expect(contextWindowOf('gpt-5', 50_000)).toBe(50_000);
    expect(autoCompactLimitOf('gpt-5', { contextWindow: 50_000 })).toBe(45_000);
    expect(autoCompactLimitOf('gpt-5', { autoCompactLimit: 1_234 })).toBe(1_234);
    expect(autoCompactLimitOf('gpt-5', { contextWindow: 50_000, autoCompactLimit: 40_000 })).toBe(40_000);
  });

  it('names are read without provider paths, in lower case', () => {
    expect(normalizeModelName('  OpenAI/GPT-4o ')).toBe('gpt-4o');
    expect(normalizeModelName('hf.co/bartowski/Qwen2.5_Coder')).toBe('qwen2.5-coder');
    expect(knownModel('azure/gpt-4.1')?.family).toBe('gpt-4.1');
  });
});
