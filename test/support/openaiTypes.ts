/**
 * The `openai` package's own declarations, read as text, so the scripted endpoint's wire shapes can
 * be checked field by field against them (event types, required and known fields).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Declared {
  name: string;
  required: string[];
  known: string[];
}

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('openai'));

function interfaces(file: string): (Declared & { type?: string })[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: (Declared & { type?: string })[] = [];
  const re = /^export interface (\w+) \{\n([\s\S]*?)^\}/gm;
  for (const m of text.matchAll(re)) {
    const fields = [...m[2]!.matchAll(/^ {4}(\w+)(\??):\s*(.*)$/gm)];
    const type = fields.find((f) => f[1] === 'type')?.[3]?.match(/^'([^']+)';$/)?.[1];
    out.push({
      name: m[1]!,
      required: fields.filter((f) => f[2] === '').map((f) => f[1]!),
      known: fields.map((f) => f[1]!),
      ...(type ? { type } : {}),
    });
  }
  return out;
}

/** The Responses stream event interfaces of the ResponseStreamEvent union, by their `type`. */
export function responseStreamEvents(): Map<string, Declared> {
  const file = 'resources/responses/responses.d.ts';
  const text = readFileSync(join(root, file), 'utf8');
  const union = text
    .match(/^export type ResponseStreamEvent = ([^;]+);/m)![1]!
    .split('|')
    .map((s) => s.trim());
  const byType = new Map<string, Declared>();
  for (const i of interfaces(file)) if (i.type && union.includes(i.name)) byType.set(i.type, i);
  return byType;
}

export function declared(file: string, name: string): Declared {
  const found = interfaces(file).find((i) => i.name === name);
  if (!found) throw new Error(`no interface ${name} in openai/${file}`);
  return found;
}

/** Fields of `obj` the declaration requires but it lacks, and fields it has that the declaration does not know. */
export function fieldMismatch(obj: Record<string, unknown>, d: Declared): { missing: string[]; unknown: string[] } {
  return { missing: d.required.filter((k) => !(k in obj)), unknown: Object.keys(obj).filter((k) => !d.known.includes(k)) };
}
