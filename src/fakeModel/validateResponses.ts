/** Responses API request checks (input items, roles, include, reasoning pairing, strict schemas), as OpenAI's API makes them. */

import { strictSchemaViolation } from '../protocol/strictSchema';
import { isIssuedEncryptedContent } from './reasoning';
import { invalid, REASONING_EFFORTS, type Rejection } from './rejection';
import type { Refusable } from './types';

const ROLES = ['user', 'assistant', 'system', 'developer'];

/** The `openai` package's ResponseIncludable values. */
const INCLUDABLE = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
];

/** What a reasoning item may precede: the model output it was produced with. */
function isModelOutput(item: any): boolean {
  return item?.type === 'function_call' || item?.type === 'reasoning' || ((item?.type ?? 'message') === 'message' && item?.role === 'assistant');
}

function checkItem(item: any, i: number, input: any[], store: boolean, refuse: readonly Refusable[], calls: Set<string>): Rejection | null {
  const at = `input[${i}]`;
  if (typeof item !== 'object' || item === null) return invalid(at, `Invalid type for '${at}': expected an object.`, 'invalid_type');
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      if (!ROLES.includes(item.role))
        return invalid(`${at}.role`, `Invalid value: '${item.role}'. Supported values are: ${ROLES.map((r) => `'${r}'`).join(', ')}.`);
      if (item.role === 'developer' && refuse.includes('developer_role')) {
        return invalid(`${at}.role`, "Invalid value: 'developer'. Supported values are: 'user', 'assistant' and 'system'.");
      }
      return null;
    case 'function_call':
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string' || typeof item.arguments !== 'string') {
        return invalid(at, `Missing required parameter: '${at}.call_id', '.name' and '.arguments' must be strings.`, 'missing_required_parameter');
      }
      calls.add(item.call_id);
      return null;
    case 'function_call_output':
      if (!calls.has(item.call_id)) return invalid(at, `No tool call found for function call output with call_id ${item.call_id}.`);
      return null;
    case 'reasoning':
      if (
        typeof item.id !== 'string' ||
        !Array.isArray(item.summary) ||
        item.summary.some((s: any) => s?.type !== 'summary_text' || typeof s.text !== 'string')
      ) {
        return invalid(at, `Invalid reasoning item '${at}': 'id' and 'summary' (summary_text parts) are required.`, 'invalid_type');
      }
      if (!isModelOutput(input[i + 1])) return invalid(at, `Item '${item.id}' of type 'reasoning' was provided without its required following item.`);
      if (item.encrypted_content == null && !store) {
        return invalid(at, `Item with id '${item.id}' not found. Items are not persisted when \`store\` is set to false.`, 'item_not_found');
      }
      if (item.encrypted_content != null && !isIssuedEncryptedContent(item.encrypted_content)) {
        return invalid(`${at}.encrypted_content`, `The encrypted content for item ${item.id} could not be verified.`, 'invalid_encrypted_content');
      }
      return null;
    case 'compaction':
      return typeof item.encrypted_content === 'string'
        ? null
        : invalid(`${at}.encrypted_content`, 'Missing required parameter.', 'missing_required_parameter');
    default:
      return invalid(`${at}.type`, `Invalid value: '${type}'.`);
  }
}

function checkInput(body: any, refuse: readonly Refusable[]): Rejection | null {
  if (typeof body.input === 'string' || body.input === undefined) return null;
  if (!Array.isArray(body.input)) return invalid('input', "Invalid type for 'input': expected a string or an array.", 'invalid_type');
  const calls = new Set<string>();
  const store = body.store !== false;
  for (const [i, item] of body.input.entries()) {
    const r = checkItem(item, i, body.input, store, refuse, calls);
    if (r) return r;
  }
  return null;
}

function checkInclude(body: any, refuse: readonly Refusable[]): Rejection | null {
  if (body.include === undefined || body.include === null) return null;
  if (refuse.includes('include')) return invalid('include', 'Encrypted content is not supported with this model: the include parameter is not supported.');
  if (!Array.isArray(body.include)) return invalid('include', "Invalid type for 'include': expected an array.", 'invalid_type');
  const bad = body.include.find((v: unknown) => !INCLUDABLE.includes(String(v)));
  return bad === undefined
    ? null
    : invalid('include[]', `Invalid value: '${String(bad)}'. Supported values are: ${INCLUDABLE.map((v) => `'${v}'`).join(', ')}.`);
}

function checkSchemas(body: any): Rejection | null {
  const format = body.text?.format;
  if (format?.type === 'json_schema' && format.strict === true) {
    const v = strictSchemaViolation(format.schema);
    if (v) return invalid('text.format.schema', `Invalid schema for response_format '${format.name}': ${v}.`, 'invalid_json_schema');
  }
  for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    if (tool?.type !== 'function' || tool.strict !== true) continue;
    const v = strictSchemaViolation(tool.parameters);
    if (v) return invalid(`tools[${i}].parameters`, `Invalid schema for function '${tool.name}': ${v}.`, 'invalid_function_parameters');
  }
  return null;
}

export function validateResponses(body: any, refuse: readonly Refusable[]): Rejection | null {
  const effort = body.reasoning?.effort;
  if (effort != null && !REASONING_EFFORTS.includes(effort)) return invalid('reasoning.effort', `Invalid value: '${effort}'.`);
  return checkInclude(body, refuse) ?? checkInput(body, refuse) ?? checkSchemas(body);
}
