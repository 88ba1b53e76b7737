/** The worker's secret values, and scrubbing them out of text that leaves the worker. */

const SECRET_NAME = /(API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY)/i;
const ALWAYS_SECRET = ['OPENAI_API_KEY', 'TEMPORAL_API_KEY'];
/** Shorter values would redact ordinary words and numbers everywhere. */
export const MIN_SECRET_LENGTH = 8;

export interface SecretValue {
  name: string;
  value: string;
}

/** Secret variables of `env` (by name), longest value first so overlapping values redact whole. */
export function secretValues(env: NodeJS.ProcessEnv = process.env): SecretValue[] {
  const found: SecretValue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) continue;
    if (ALWAYS_SECRET.includes(name) || SECRET_NAME.test(name)) found.push({ name, value });
  }
  return found.sort((a, b) => b.value.length - a.value.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `text` with every secret value of `env` replaced by `[REDACTED:<NAME>]`. */
export function scrubSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return scrubWith(text, secretValues(env));
}

/** `text` with each of `secrets` (as secretValues returns them) replaced by `[REDACTED:<NAME>]`. */
export function scrubWith(text: string, secrets: SecretValue[]): string {
  let out = text;
  for (const { name, value } of secrets) {
    if (out.includes(value)) out = out.split(value).join(`[REDACTED:${name}]`);
  }
  return out;
}
