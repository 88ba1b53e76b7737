/**
 * OpenAI's strict mode for JSON schemas (structured outputs with `strict: true`, strict function
 * tools): every object closes with `additionalProperties: false` and lists every property as
 * required, the root is an object, and only the supported keywords appear.
 */

/** The keywords strict mode accepts (OpenAI's structured-outputs guide). */
const SUPPORTED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typesOf(schema: Record<string, unknown>): string[] {
  return Array.isArray(schema.type) ? schema.type.map(String) : typeof schema.type === 'string' ? [schema.type] : [];
}

/** The first strict-mode violation in `schema` (a message naming where), or null. */
export function strictSchemaViolation(schema: unknown, where = 'schema', root = true): string | null {
  if (!isObject(schema)) return `${where} must be a JSON schema object`;
  if (root && !typesOf(schema).includes('object')) return `${where}: the root of a strict schema must be of type "object"`;
  for (const key of Object.keys(schema)) {
    if (!SUPPORTED.has(key)) return `${where}: '${key}' is not permitted in strict mode`;
  }
  const props = schema.properties;
  if (typesOf(schema).includes('object') || props !== undefined) {
    if (schema.additionalProperties !== false) return `${where}: 'additionalProperties' is required to be supplied and to be false`;
    const keys = isObject(props) ? Object.keys(props) : [];
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = keys.find((k) => !required.includes(k));
    if (missing !== undefined)
      return `${where}: 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'`;
    const extra = required.find((k) => !keys.includes(String(k)));
    if (extra !== undefined) return `${where}: 'required' names '${String(extra)}', which is not in properties`;
    for (const k of keys) {
      const v = strictSchemaViolation((props as Record<string, unknown>)[k], `${where}.properties.${k}`, false);
      if (v) return v;
    }
  }
  if (schema.items !== undefined) {
    const v = strictSchemaViolation(schema.items, `${where}.items`, false);
    if (v) return v;
  }
  if (schema.anyOf !== undefined) {
    if (!Array.isArray(schema.anyOf)) return `${where}.anyOf must be an array`;
    for (const [i, sub] of schema.anyOf.entries()) {
      const v = strictSchemaViolation(sub, `${where}.anyOf[${i}]`, false);
      if (v) return v;
    }
  }
  for (const defsKey of ['$defs', 'definitions'] as const) {
    const defs = schema[defsKey];
    if (defs === undefined) continue;
    if (!isObject(defs)) return `${where}.${defsKey} must be an object`;
    for (const [name, sub] of Object.entries(defs)) {
      const v = strictSchemaViolation(sub, `${where}.${defsKey}.${name}`, false);
      if (v) return v;
    }
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return `${where}.enum must be an array`;
  return null;
}
