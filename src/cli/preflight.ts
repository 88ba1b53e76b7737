/** Checks before a run starts on a worker in this process: the model endpoint answers, the sandbox works. */
import type { InftyConfig } from '../config';
import { UnreachableError, UsageError } from '../errors';
import { sandboxAdvice } from '../host/sandboxAdvice';
import { detectSandbox } from '../worker';

/** A key or endpoint is set and the endpoint answers. */
export async function requireModelEndpoint(config: InftyConfig): Promise<void> {
  if (!config.apiKey && !config.baseURL) {
    throw new UsageError(
      'no model endpoint configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL for any OpenAI-compatible server), or try `infty demo`',
    );
  }
  const base = (config.baseURL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  try {
    // Any HTTP answer (even 401 or 404) means the endpoint is reachable.
    await fetch(`${base}/models`, { signal: AbortSignal.timeout(5_000), headers: config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {} });
  } catch (err) {
    const why = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UnreachableError(`cannot reach the model endpoint ${base} (${why}); check OPENAI_BASE_URL and your network. Nothing was started.`);
  }
}

/** A run that needs the sandbox is refused up front when there is none. */
export async function requireSandbox(): Promise<void> {
  const sandbox = await detectSandbox();
  if (!sandbox.available) {
    throw new UsageError(
      `no working sandbox for shell commands: ${sandboxAdvice(sandbox)}. Or pass --sandbox none to run the Solver's commands unsandboxed. Nothing was started.`,
    );
  }
}
