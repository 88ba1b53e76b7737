/** Prompt files (docs/architecture.md decision 7): loaded by activities, versioned with the code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../temporalCli';

const cache = new Map<string, string>();

export function promptsDir(): string {
  return join(projectRoot(), 'prompts');
}

export function loadPrompt(name: string, dir = promptsDir()): string {
  const path = join(dir, `${name}.md`);
  let text = cache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8').trim();
    cache.set(path, text);
  }
  return text;
}

/** Substitutes `{{name}}` placeholders; an unknown placeholder is an error, not silent text. */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`prompt placeholder {{${key}}} has no value`);
    return value;
  });
}
