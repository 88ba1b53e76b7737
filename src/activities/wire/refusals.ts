/**
 * Optional request features that some OpenAI-compatible endpoints refuse (HTTP 400/422 naming the
 * feature): `include: ["reasoning.encrypted_content"]`, the `developer` role, `reasoning_content`
 * on Chat assistant messages. The first refusal is answered by sending the request again without
 * the feature; once that succeeds the endpoint is remembered (per worker process) and never gets
 * the feature again. Like ./promptCacheKey, which keeps its own memo for `prompt_cache_key`.
 * `endpoint` is the memo key: the base URL, or the base URL and the model for features a server
 * grants per model (OpenAI refuses `reasoning.encrypted_content` for non-reasoning models).
 */
import OpenAI from 'openai';

export type Feature = 'include_encrypted_reasoning' | 'developer_role' | 'chat_reasoning_content';

/** What an error must name to count as a refusal of the feature. */
const NAMES: Record<Feature, RegExp> = {
  include_encrypted_reasoning: /\binclude\b|reasoning\.encrypted_content/i,
  developer_role: /developer/i,
  chat_reasoning_content: /reasoning_content|\breasoning\b/i,
};

const refusing = new Map<Feature, Set<string>>();

export function refuses(endpoint: string, feature: Feature): boolean {
  return refusing.get(feature)?.has(endpoint) ?? false;
}

/** A 400/422 whose message or body names the feature. */
export function isRefusalOf(err: unknown, feature: Feature): boolean {
  if (!(err instanceof OpenAI.APIError) || (err.status !== 400 && err.status !== 422)) return false;
  return NAMES[feature].test(`${err.message} ${JSON.stringify(err.error ?? null)}`);
}

/**
 * `send(true)` unless the endpoint is known to refuse the feature or the request does not use it
 * (`used` false); after a refusal naming the feature, `send(false)`, remembered once it succeeds.
 */
export async function withFeature<R>(endpoint: string, feature: Feature, used: boolean, send: (use: boolean) => Promise<R>): Promise<R> {
  if (!used || refuses(endpoint, feature)) return send(false);
  try {
    return await send(true);
  } catch (err) {
    if (!isRefusalOf(err, feature)) throw err;
  }
  const result = await send(false);
  let set = refusing.get(feature);
  if (!set) {
    set = new Set();
    refusing.set(feature, set);
  }
  set.add(endpoint);
  return result;
}

/** For tests: forget what was learned about endpoints. */
export function forgetRefusals(): void {
  refusing.clear();
}
