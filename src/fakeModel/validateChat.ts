/** Chat Completions request checks (roles, tool-call pairing, strict schemas), as OpenAI's API makes them. */

import { strictSchemaViolation } from '../protocol/strictSchema';
import { invalid, REASONING_EFFORTS, type Rejection } from './rejection';
import type { Refusable } from './types';

const ROLES = ['system', 'user', 'assistant', 'tool', 'developer'];

function checkMessages(messages: any[], refuse: readonly Refusable[]): Rejection | null {
  /** Tool calls of the last assistant message still waiting for their tool messages. */
  let waiting: string[] = [];
  for (const [i, m] of messages.entries()) {
    const at = `messages[${i}]`;
    if (!ROLES.includes(m?.role)) return invalid(`${at}.role`, `Invalid value: '${m?.role}'. Supported values are: ${ROLES.map((r) => `'${r}'`).join(', ')}.`);
    if (m.role === 'developer' && refuse.includes('developer_role'))
      return invalid(`${at}.role`, "Invalid value: 'developer'. The developer role is not supported.");
    if (m.role === 'tool') {
      if (!waiting.includes(m.tool_call_id)) {
        return invalid(at, "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.");
      }
      waiting = waiting.filter((id) => id !== m.tool_call_id);
      continue;
    }
    if (waiting.length) {
      return invalid(
        at,
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${waiting.join(', ')}`,
      );
    }
    if (m.role === 'assistant') {
      if ('reasoning_content' in m && refuse.includes('reasoning_content')) {
        return invalid(`${at}.reasoning_content`, `Unrecognized request argument supplied: ${at}.reasoning_content`, 'unrecognized_argument');
      }
      waiting = (m.tool_calls ?? []).map((c: any) => c?.id);
    }
  }
  return null;
}

function checkSchemas(body: any): Rejection | null {
  const format = body.response_format;
  if (format?.type === 'json_schema' && format.json_schema?.strict === true) {
    const v = strictSchemaViolation(format.json_schema.schema);
    if (v) return invalid('response_format', `Invalid schema for response_format '${format.json_schema.name}': ${v}.`, 'invalid_json_schema');
  }
  for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    if (tool?.type !== 'function' || tool.function?.strict !== true) continue;
    const v = strictSchemaViolation(tool.function.parameters);
    if (v) return invalid(`tools[${i}].function.parameters`, `Invalid schema for function '${tool.function.name}': ${v}.`, 'invalid_function_parameters');
  }
  return null;
}

export function validateChat(body: any, refuse: readonly Refusable[]): Rejection | null {
  const effort = body.reasoning_effort;
  if (effort != null && !REASONING_EFFORTS.includes(effort)) return invalid('reasoning_effort', `Invalid value: '${effort}'.`);
  return checkMessages(body.messages, refuse) ?? checkSchemas(body);
}
