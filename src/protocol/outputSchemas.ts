/**
 * The replies that must be JSON, by the name of their structured-output format. The zod contracts
 * are the one definition: the JSON schemas sent to the model are generated from them.
 */
import { z } from 'zod';
import { DirectorReplySchema } from './director';
import { SolverFinalSchema, SolverSignalSchema } from './signals';
import { VerdictSchema } from './verdict';

export const REPLY_CONTRACTS = {
  solver_signal: SolverSignalSchema,
  /** Finalization: final_delivery is the only allowed reply. */
  solver_final: SolverFinalSchema,
  director_reply: DirectorReplySchema,
  verdict: VerdictSchema,
} as const;

export type OutputSchemaName = keyof typeof REPLY_CONTRACTS;
/** What a reply in format `N` parses to. */
export type Reply<N extends OutputSchemaName> = z.output<(typeof REPLY_CONTRACTS)[N]>;

/** The contract of format `N`, typed per name (indexing the table with a generic name would widen to the union). */
export function replyContract<N extends OutputSchemaName>(name: N): z.ZodType<Reply<N>> {
  const byName: { [K in OutputSchemaName]: z.ZodType<Reply<K>> } = REPLY_CONTRACTS;
  return byName[name];
}

export type JsonSchema = Record<string, unknown>;

/**
 * The schema a contract's parse output satisfies, in OpenAI strict mode's subset: 'output' makes
 * defaulted keys required (a parse always yields them) and objects closed; strict mode refuses
 * `default`, and `$schema` is dropped so the format is the bare schema.
 */
function strictJsonSchema(contract: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(contract, {
    io: 'output',
    override: ({ jsonSchema }) => {
      delete jsonSchema.default;
    },
  });
  return schema;
}

export const OUTPUT_SCHEMAS = Object.fromEntries(Object.entries(REPLY_CONTRACTS).map(([name, contract]) => [name, strictJsonSchema(contract)])) as Record<
  OutputSchemaName,
  JsonSchema
>;
