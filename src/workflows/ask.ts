/** Asking a role for a reply that must be JSON (docs/behaviour.md §2), with one corrective retry. */
import type { NewItem } from '../protocol/activities';
import { type JsonReply, parseJsonReply } from '../protocol/json';
import { OUTPUT_SCHEMAS, type OutputSchemaName, type Reply, replyContract } from '../protocol/outputSchemas';
import type { RunContext } from './context';
import { roleTurn } from './roleTurn';

/** Answers a reply its contract refused: what was wrong, and the schema to match. */
export function correctionItem(error: string, schema: OutputSchemaName): NewItem {
  return { type: 'prompt_message', template: 'correction', vars: { error, schema: JSON.stringify(OUTPUT_SCHEMAS[schema]) } };
}

/** One turn of `role` ending in a `schema` reply; a refused reply gets one corrective turn. */
export async function askForJson<N extends OutputSchemaName>(ctx: RunContext, role: string, request: NewItem[], schema: N): Promise<JsonReply<Reply<N>>> {
  const contract = replyContract(schema);
  const first = await roleTurn(ctx, role, request, schema);
  const parsed = parseJsonReply(first.text, contract);
  if (parsed.ok) return parsed;
  const retry = await roleTurn(ctx, role, [correctionItem(parsed.error, schema)], schema);
  return parseJsonReply(retry.text, contract);
}
