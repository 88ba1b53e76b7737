/**
 * OpenAI's strict mode for JSON schemas (structured outputs with `strict: true`, strict function
 * tools; the structured-outputs guide, "Supported schemas"): the root is an object; every object
 * closes with `additionalProperties: false` and lists every property as required; only the
 * supported keywords and types appear; at most 10 levels of nesting. Used to decide which MCP
 * tools are sent strict, by the scripted model server to refuse what OpenAI refuses, and by the
 * tests of the schemas the product sends.
 */

/** The keywords strict mode accepts. */
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
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const MAX_DEPTH = 10;

export interface StrictSchemaOptions {
  /** Properties missing from `required` are tolerated (the table's tools, sent with `strict: false`). */
  allowOptionalProperties?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typesOf(schema: Record<string, unknown>): unknown[] {
  return Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
}

/** Every way `schema` breaks strict mode, each naming where (`schema.properties.a: …`); empty when it complies. */
export function strictSchemaViolations(schema: unknown, opts: StrictSchemaOptions = {}): string[] {
  const problems: string[] = [];
  if (isObject(schema) && !typesOf(schema).includes('object')) problems.push(`schema: the root of a strict schema must be of type "object"`);
  walk(schema, 'schema', 0, opts, problems);
  return problems;
}

/** The first strict-mode violation in `schema`, or null (the message a strict endpoint answers with). */
export function strictSchemaViolation(schema: unknown, opts: StrictSchemaOptions = {}): string | null {
  return strictSchemaViolations(schema, opts)[0] ?? null;
}

function walk(node: unknown, where: string, depth: number, opts: StrictSchemaOptions, problems: string[]): void {
  if (!isObject(node)) {
    problems.push(`${where} must be a JSON schema object`);
    return;
  }
  if (depth > MAX_DEPTH) problems.push(`${where}: nested deeper than ${MAX_DEPTH} levels`);
  for (const key of Object.keys(node)) if (!SUPPORTED.has(key)) problems.push(`${where}: '${key}' is not permitted in strict mode`);
  const types = typesOf(node);
  for (const t of types) if (!TYPES.has(t as string)) problems.push(`${where}: type ${JSON.stringify(t)} is not supported`);
  if (node.type === undefined && node.anyOf === undefined && node.$ref === undefined && node.enum === undefined && node.const === undefined) {
    problems.push(`${where}: a schema must have a 'type'`);
  }
  if (node.enum !== undefined && (!Array.isArray(node.enum) || node.enum.length === 0)) problems.push(`${where}.enum must be a non-empty array`);
  if (types.includes('object') || node.properties !== undefined) checkObject(node, where, depth, opts, problems);
  if (types.includes('array') && node.items === undefined) problems.push(`${where}: an array schema needs 'items'`);
  if (node.items !== undefined) walk(node.items, `${where}.items`, depth + 1, opts, problems);
  if (node.anyOf !== undefined) {
    if (!Array.isArray(node.anyOf)) problems.push(`${where}.anyOf must be an array`);
    else for (const [i, sub] of node.anyOf.entries()) walk(sub, `${where}.anyOf[${i}]`, depth + 1, opts, problems);
  }
  for (const defsKey of ['$defs', 'definitions'] as const) {
    const defs = node[defsKey];
    if (defs === undefined) continue;
    if (!isObject(defs)) problems.push(`${where}.${defsKey} must be an object`);
    else for (const [name, sub] of Object.entries(defs)) walk(sub, `${where}.${defsKey}.${name}`, depth + 1, opts, problems);
  }
}

function checkObject(node: Record<string, unknown>, where: string, depth: number, opts: StrictSchemaOptions, problems: string[]): void {
  if (node.additionalProperties !== false) problems.push(`${where}: 'additionalProperties' is required to be supplied and to be false`);
  const props = isObject(node.properties) ? node.properties : {};
  const keys = Object.keys(props);
  const required = Array.isArray(node.required) ? node.required.map(String) : [];
  const missing = keys.filter((k) => !required.includes(k));
  if (missing.length && !opts.allowOptionalProperties) {
    problems.push(`${where}: 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'`);
  }
  for (const extra of required.filter((k) => !keys.includes(k))) problems.push(`${where}: 'required' names '${extra}', which is not in properties`);
  for (const k of keys) walk(props[k], `${where}.properties.${k}`, depth + 1, opts, problems);
}
