/**
 * `prompt_cache_key` on Chat Completions: OpenAI accepts it, but strict OpenAI-compatible servers
 * reject unknown fields with HTTP 400/422 ("Unrecognized request argument supplied:
 * prompt_cache_key", pydantic's "extra_forbidden"). Such an endpoint gets the request again without
 * the key, and never gets the key again from this worker process.
 */
import OpenAI from 'openai';

const rejecting = new Set<string>();

/**
 * A 400/422 that names the key, or whose body the SDK could not read: it drops bodies that lack an
 * `error` object (`{"detail": [...]}`, `{"object": "error", "message": ...}`), as some of these servers send.
 */
export function mayRejectPromptCacheKey(err: unknown): boolean {
  if (!(err instanceof OpenAI.APIError) || (err.status !== 400 && err.status !== 422)) return false;
  return err.error == null || `${err.message} ${JSON.stringify(err.error)}`.includes('prompt_cache_key');
}

/** Sends `params` (without the key where the endpoint is known to reject it); after a rejection that may be about the key, once more without it. */
export async function withPromptCacheKeyFallback<P extends { prompt_cache_key?: string | null }, R>(
  baseURL: string,
  params: P,
  send: (params: P) => Promise<R>,
): Promise<R> {
  const { prompt_cache_key: _dropped, ...withoutKey } = params;
  if (params.prompt_cache_key == null) return send(params);
  if (rejecting.has(baseURL)) return send(withoutKey as P);
  try {
    return await send(params);
  } catch (err) {
    if (!mayRejectPromptCacheKey(err)) throw err;
  }
  // Remembered only once the request without the key succeeds, so another 400 cannot turn the key off.
  const result = await send(withoutKey as P);
  rejecting.add(baseURL);
  return result;
}
