/** JSON schemas sent as the structured-output format of role turns that must end in JSON. */

const nullableString = { type: ['string', 'null'] } as const;

export const OUTPUT_SCHEMAS = {
  solver_signal: {
    type: 'object',
    properties: {
      type: { type: 'string', enum: ['direction_request', 'final_delivery'] },
      prompt: nullableString,
      deliverable_path: nullableString,
      summary: nullableString,
    },
    required: ['type', 'prompt', 'deliverable_path', 'summary'],
    additionalProperties: false,
  },
  /** Finalization: final_delivery is the only allowed reply. */
  solver_final: {
    type: 'object',
    properties: {
      type: { type: 'string', enum: ['final_delivery'] },
      prompt: nullableString,
      deliverable_path: nullableString,
      summary: nullableString,
    },
    required: ['type', 'prompt', 'deliverable_path', 'summary'],
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
} as const;

export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;
