/**
 * Knowing the model (docs/behaviour.md §6.5): the input context window and the default auto-compact
 * limit of current OpenAI model families and common open models, in one table. INFTY_CONTEXT_WINDOW /
 * INFTY_AUTO_COMPACT_LIMIT (worker) and the run input's contextWindow / autoCompactLimit override it;
 * an unknown model gets FALLBACK_CONTEXT_WINDOW.
 *
 * Windows are input tokens: for OpenAI models whose total window is shared with the output (gpt-5.x:
 * 400k total, 128k output) the input part, as the Codex CLI uses. Open models list their native
 * window; a server may be configured smaller (vLLM --max-model-len, Ollama num_ctx): override it then.
 */

export interface ModelRow {
  /** Tested against the normalized model name (see normalizeModelName). */
  pattern: RegExp;
  /** For humans and tests: which family the row covers. */
  family: string;
  contextWindow: number;
  /** Default auto-compact limit; omitted: 90% of the window. */
  autoCompactLimit?: number;
}

/** First match wins: more specific rows come first. */
export const MODEL_TABLE: readonly ModelRow[] = [
  // --- OpenAI ---
  { pattern: /^gpt-5(\.\d+)?-chat/, family: 'gpt-5.x chat', contextWindow: 128_000 },
  { pattern: /^gpt-5/, family: 'gpt-5.x (incl. codex, mini, nano, pro)', contextWindow: 272_000 },
  { pattern: /^gpt-oss/, family: 'gpt-oss', contextWindow: 96_000 },
  { pattern: /^gpt-4\.1/, family: 'gpt-4.1', contextWindow: 1_047_576 },
  { pattern: /^(gpt-4o|chatgpt-4o)/, family: 'gpt-4o', contextWindow: 128_000 },
  { pattern: /^gpt-4-32k/, family: 'gpt-4-32k', contextWindow: 32_768 },
  { pattern: /^gpt-4-(turbo|\d{4}-preview|vision)/, family: 'gpt-4-turbo', contextWindow: 128_000 },
  { pattern: /^gpt-4(-\d{4})?$/, family: 'gpt-4', contextWindow: 8_192 },
  { pattern: /^gpt-3\.5-turbo/, family: 'gpt-3.5-turbo', contextWindow: 16_385 },
  { pattern: /^o1-(mini|preview)/, family: 'o1-mini / o1-preview', contextWindow: 128_000 },
  { pattern: /^(o1|o3|o4-mini)/, family: 'o-series (o1, o3, o3-mini, o3-pro, o4-mini)', contextWindow: 200_000 },
  { pattern: /^codex-mini/, family: 'codex-mini', contextWindow: 200_000 },
  { pattern: /^codex-/, family: 'codex', contextWindow: 272_000 },
  // --- Open models (native windows) ---
  { pattern: /^llama-?4/, family: 'llama 4', contextWindow: 1_048_576 },
  { pattern: /^llama-?3\.[1-3]/, family: 'llama 3.1 / 3.2 / 3.3', contextWindow: 131_072 },
  { pattern: /^llama-?3/, family: 'llama 3', contextWindow: 8_192 },
  { pattern: /^(qwen3-coder|qwen3-.*2507)/, family: 'qwen3-coder, qwen3 2507', contextWindow: 262_144 },
  { pattern: /^qwen3/, family: 'qwen 3', contextWindow: 32_768 },
  { pattern: /^qwen-?2\.5-.*1m/, family: 'qwen 2.5 1M', contextWindow: 1_010_000 },
  { pattern: /^qwen-?2\.5/, family: 'qwen 2.5', contextWindow: 32_768 },
  { pattern: /^(qwq|qwen)/, family: 'qwen (other), qwq', contextWindow: 32_768 },
  { pattern: /^deepseek/, family: 'deepseek (chat, reasoner, v3.x, r1, coder-v2)', contextWindow: 128_000 },
  { pattern: /^(codestral|devstral-(medium|2))/, family: 'codestral, devstral 2', contextWindow: 262_144 },
  { pattern: /^(mistral-(7b|tiny)|mixtral|open-mistral-7b|open-mixtral)/, family: 'mistral 7b, mixtral', contextWindow: 32_768 },
  { pattern: /^(mistral|ministral|magistral|devstral|pixtral)/, family: 'mistral (large, medium, small 3.x), ministral, devstral', contextWindow: 131_072 },
  { pattern: /^gemma-?3n/, family: 'gemma 3n', contextWindow: 32_768 },
  { pattern: /^gemma-?3[-:]?(1b|270m)/, family: 'gemma 3 1b', contextWindow: 32_768 },
  { pattern: /^gemma-?3/, family: 'gemma 3', contextWindow: 131_072 },
  { pattern: /^gemma/, family: 'gemma 1 / 2', contextWindow: 8_192 },
  { pattern: /^phi-?4/, family: 'phi-4', contextWindow: 16_384 },
  { pattern: /^kimi-k2/, family: 'kimi k2', contextWindow: 131_072 },
  { pattern: /^glm-?4\.[5-9]/, family: 'glm 4.5+', contextWindow: 131_072 },
];

export const FALLBACK_CONTEXT_WINDOW = 128_000;
/** The default auto-compact limit as a share of the context window. */
export const AUTO_COMPACT_SHARE = 0.9;

/**
 * The name as the table sees it: lower case, without a provider or organisation path
 * (`openai/gpt-4o`, `meta-llama/Llama-3.1-8B-Instruct`, `hf.co/…/…`) and with `_` and spaces read as `-`.
 * Ollama tags (`llama3.1:8b`) and size suffixes stay; the patterns only look at the start.
 */
export function normalizeModelName(model: string): string {
  const last = model.trim().toLowerCase().split('/').pop() ?? '';
  return last.replace(/[_\s]+/g, '-');
}

/** The table row for a model, if it is known. */
export function knownModel(model: string): ModelRow | undefined {
  const name = normalizeModelName(model);
  return MODEL_TABLE.find((row) => row.pattern.test(name));
}

export function contextWindowOf(model: string, configured?: number): number {
  if (configured) return configured;
  return knownModel(model)?.contextWindow ?? FALLBACK_CONTEXT_WINDOW;
}

/**
 * The input token count at which a role's history is compacted: the explicit limit; else 90% of an
 * explicitly configured window; else the table's default for the model (90% of its window unless the
 * row says otherwise); else 90% of the fallback window.
 */
export function autoCompactLimitOf(model: string, opts: { contextWindow?: number; autoCompactLimit?: number }): number {
  if (opts.autoCompactLimit) return opts.autoCompactLimit;
  if (opts.contextWindow) return Math.floor(opts.contextWindow * AUTO_COMPACT_SHARE);
  const row = knownModel(model);
  return row?.autoCompactLimit ?? Math.floor((row?.contextWindow ?? FALLBACK_CONTEXT_WINDOW) * AUTO_COMPACT_SHARE);
}
