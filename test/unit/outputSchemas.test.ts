import { describe, expect, it } from 'vitest';
import { OUTPUT_SCHEMAS, REPLY_CONTRACTS } from '../../src/protocol/outputSchemas';
import { strictSchemaViolations } from '../../src/protocol/strictSchema';
import { TOOL_NAMES, toolDefinitions } from '../../src/protocol/tools';

const nullableString = { type: ['string', 'null'] };
const signalProperties = { prompt: nullableString, deliverable_path: nullableString, summary: nullableString };
const signalRequired = ['type', 'prompt', 'deliverable_path', 'summary'];

/** The schemas as they were written by hand before being generated: the model must see the same contract. */
const EXPECTED = {
  solver_signal: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['direction_request', 'final_delivery'] }, ...signalProperties },
    required: signalRequired,
    additionalProperties: false,
  },
  solver_final: {
    type: 'object',
    properties: { type: { type: 'string', enum: ['final_delivery'] }, ...signalProperties },
    required: signalRequired,
    additionalProperties: false,
  },
  director_reply: {
    type: 'object',
    properties: { directive: { type: 'string' }, rationale: nullableString },
    required: ['directive', 'rationale'],
    additionalProperties: false,
  },
  verdict: {
    type: 'object',
    properties: {
      verdict: { type: 'string', enum: ['pass', 'fail'] },
      reasons: { type: 'array', items: { type: 'string' } },
      suggestions: { type: 'array', items: { type: 'string' } },
    },
    required: ['verdict', 'reasons', 'suggestions'],
    additionalProperties: false,
  },
};

describe('output schemas generated from the zod contracts', () => {
  it('there is one per contract', () => {
    expect(Object.keys(OUTPUT_SCHEMAS)).toEqual(Object.keys(REPLY_CONTRACTS));
  });

  it.each(Object.keys(OUTPUT_SCHEMAS) as (keyof typeof OUTPUT_SCHEMAS)[])('%s satisfies OpenAI strict mode', (name) => {
    expect(strictSchemaViolations(OUTPUT_SCHEMAS[name])).toEqual([]);
  });

  it.each(Object.keys(EXPECTED) as (keyof typeof EXPECTED)[])('%s is the contract the model has always been sent, byte for byte', (name) => {
    expect(JSON.stringify(OUTPUT_SCHEMAS[name])).toBe(JSON.stringify(EXPECTED[name]));
  });

  it('solver_signal requires all four keys although parsing fills missing ones with null', () => {
    expect(OUTPUT_SCHEMAS.solver_signal.required).toEqual(signalRequired);
    expect(REPLY_CONTRACTS.solver_signal.parse({ type: 'final_delivery', deliverable_path: 'd' })).toMatchObject({ prompt: null, summary: null });
  });
});

describe('tool definitions', () => {
  // Tools are sent with strict: false (optional arguments stay optional); every other rule holds.
  it.each(TOOL_NAMES)('%s satisfies strict mode apart from optional arguments', (name) => {
    const [definition] = toolDefinitions([name]);
    expect(strictSchemaViolations(definition!.parameters, { allowOptionalProperties: true })).toEqual([]);
  });
});

describe('strictSchemaViolations', () => {
  const closed = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
    ...extra,
  });

  it('accepts a compliant schema', () => {
    expect(strictSchemaViolations(closed({ a: { type: ['string', 'null'] }, b: { anyOf: [{ type: 'number' }, closed({})] } }))).toEqual([]);
  });

  it.each([
    ['a default', closed({ a: { type: 'string', default: 'x' } }), /'default' is not permitted in strict mode/],
    ['a string length bound', closed({ a: { type: 'string', minLength: 1 } }), /'minLength' is not permitted in strict mode/],
    ['$schema', closed({}, { $schema: 'https://json-schema.org/draft/2020-12/schema' }), /'\$schema' is not permitted in strict mode/],
    ['an optional property', { ...closed({ a: { type: 'string' } }), required: [] }, /Missing 'a'/],
    ['an open object', { ...closed({}), additionalProperties: true }, /additionalProperties/],
    [
      'a nested open object',
      closed({ a: { type: 'array', items: { type: 'object', properties: {}, required: [] } } }),
      /schema\.properties\.a\.items: 'additionalProperties' is required/,
    ],
    ['a root anyOf', { anyOf: [closed({})] }, /root of a strict schema must be of type "object"/],
    ['an unknown type', closed({ a: { type: 'date' } }), /type "date" is not supported/],
    ['an array without items', closed({ a: { type: 'array' } }), /schema\.properties\.a: an array schema needs 'items'/],
    ['an empty enum', closed({ a: { type: 'string', enum: [] } }), /enum must be a non-empty array/],
    ['a schema without a type', closed({ a: { description: 'x' } }), /must have a 'type'/],
    [
      'nesting deeper than 10 levels',
      Array.from({ length: 11 }).reduce<Record<string, unknown>>((inner) => closed({ a: inner }), closed({})),
      /nested deeper than 10 levels/,
    ],
  ])('refuses %s', (_what, schema, problem) => {
    expect(strictSchemaViolations(schema).join('\n')).toMatch(problem);
  });

  it('tolerates optional properties only when asked to', () => {
    const schema = { ...closed({ a: { type: 'string' } }), required: [] };
    expect(strictSchemaViolations(schema, { allowOptionalProperties: true })).toEqual([]);
  });
});
