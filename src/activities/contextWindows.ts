/** Context windows (input tokens) of known models; INFTY_CONTEXT_WINDOW / run input override them. */
const KNOWN: [RegExp, number][] = [
  [/^gpt-5/, 272_000],
  [/^gpt-4\.1/, 1_047_576],
  [/^(o3|o4-mini|o1)/, 200_000],
  [/^gpt-4o/, 128_000],
];

export const FALLBACK_CONTEXT_WINDOW = 128_000;

export function contextWindowOf(model: string, configured?: number): number {
  if (configured) return configured;
  return KNOWN.find(([re]) => re.test(model))?.[1] ?? FALLBACK_CONTEXT_WINDOW;
}

/** The input token count at which a role's history is compacted (default 90% of the window). */
export function autoCompactLimitOf(model: string, opts: { contextWindow?: number; autoCompactLimit?: number }): number {
  return opts.autoCompactLimit ?? Math.floor(contextWindowOf(model, opts.contextWindow) * 0.9);
}
