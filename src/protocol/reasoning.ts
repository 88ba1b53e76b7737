/**
 * Reasoning effort per role (docs/interface.md §6). The values are exactly those of the `openai`
 * package's `ReasoningEffort` type (less `null`); test/unit/reasoningEffort.test.ts keeps them equal.
 * Defined here because the protocol imports nothing from the activities.
 */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export function isReasoningEffort(value: unknown): value is ReasoningEffort {
  return typeof value === 'string' && (REASONING_EFFORTS as readonly string[]).includes(value);
}

/** "must be one of none, minimal, …; got "x"" — the same wording for the CLI and the workflow input. */
export function reasoningEffortError(what: string, value: unknown): string {
  return `${what} must be one of ${REASONING_EFFORTS.join(', ')}; got ${JSON.stringify(value)}`;
}
