/**
 * The rules OpenAI's structured outputs apply to a schema sent with `strict: true`
 * (platform.openai.com/docs/guides/structured-outputs, "Supported schemas"): the root is an
 * object; every object lists all its properties in `required` and sets `additionalProperties:
 * false`; only the supported keywords appear (no `default`, no string length bounds, no allOf/not…);
 * at most 10 levels of nesting.
 */
const SUPPORTED_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'description',
  'title',
  '$defs',
  '$ref',
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

export interface StrictModeOptions {
  /** Properties missing from `required` are tolerated (a tool sent with `strict: false`). */
  allowOptionalProperties?: boolean;
}

/** Every way `schema` breaks strict mode, as "path: problem" lines; empty when it complies. */
export function strictModeViolations(schema: unknown, opts: StrictModeOptions = {}): string[] {
  const problems: string[] = [];
  const root = schema as Record<string, unknown>;
  if (root?.type !== 'object' || 'anyOf' in root) problems.push('$: the root must be an object schema, not anyOf');
  walk(schema, '$', 0, opts, problems);
  return problems;
}

function walk(node: unknown, path: string, depth: number, opts: StrictModeOptions, problems: string[]): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    problems.push(`${path}: a schema must be an object`);
    return;
  }
  if (depth > MAX_DEPTH) problems.push(`${path}: nested deeper than ${MAX_DEPTH} levels`);
  const s = node as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!SUPPORTED_KEYWORDS.has(key)) problems.push(`${path}: unsupported keyword "${key}"`);
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  for (const t of types) if (!TYPES.has(t as string)) problems.push(`${path}: unsupported type ${JSON.stringify(t)}`);
  if (s.type === undefined && s.anyOf === undefined && s.$ref === undefined && s.enum === undefined && s.const === undefined) {
    problems.push(`${path}: no type`);
  }
  if (s.enum !== undefined && (!Array.isArray(s.enum) || s.enum.length === 0)) problems.push(`${path}: enum must be a non-empty array`);
  if (types.includes('object')) checkObject(s, path, depth, opts, problems);
  if (types.includes('array')) {
    if (s.items === undefined) problems.push(`${path}: an array needs "items"`);
    else walk(s.items, `${path}.items`, depth + 1, opts, problems);
  }
  if (Array.isArray(s.anyOf)) {
    s.anyOf.forEach((sub, i) => {
      walk(sub, `${path}.anyOf[${i}]`, depth + 1, opts, problems);
    });
  }
  if (s.$defs && typeof s.$defs === 'object') {
    for (const [name, sub] of Object.entries(s.$defs)) walk(sub, `${path}.$defs.${name}`, depth + 1, opts, problems);
  }
}

function checkObject(s: Record<string, unknown>, path: string, depth: number, opts: StrictModeOptions, problems: string[]): void {
  if (s.additionalProperties !== false) problems.push(`${path}: an object needs "additionalProperties": false`);
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  for (const name of required) if (!(name in properties)) problems.push(`${path}: required "${name}" is not a property`);
  for (const [name, sub] of Object.entries(properties)) {
    if (!opts.allowOptionalProperties && !required.includes(name)) problems.push(`${path}: property "${name}" is not required`);
    walk(sub, `${path}.properties.${name}`, depth + 1, opts, problems);
  }
}
