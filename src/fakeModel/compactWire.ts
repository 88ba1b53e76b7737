/**
 * The scripted server's `POST /v1/responses/compact` (also without `/v1`), shaped like openai v6's
 * `CompactedResponse`: the request is validated as OpenAI does (model, input items, no unknown
 * parameters, compaction items it issued), the responder is asked as for any request (purpose
 * `compaction` from the x-infty-purpose header), and a `message` reply becomes the compacted
 * output: the input's user messages followed by one opaque `compaction` item carrying the reply's
 * text. An `error` reply is answered as such; other kinds go to `answerOther` (fault injection).
 * `responsesCompact: false` makes the server one without the endpoint (404, recorded).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errorBody, resolveUsage, sendJson } from './replyBasics';
import type { OtherReply, RecordedRequest, ReplyExchange, ScriptedReply, StartFakeModelServerOptions } from './types';

export const COMPACT_PATH = '/v1/responses/compact';

export interface CompactServerOptions {
  /** false: the server has no `/responses/compact` (HTTP 404, like a server that never had it). Default true. */
  responsesCompact?: boolean;
}

export function isCompactPath(pathname: string): boolean {
  return pathname === COMPACT_PATH || pathname === '/responses/compact';
}

const SECRET = 'infty fake model compaction';
const PREFIX = 'fakecmp1.';

function sign(payload: string): string {
  return createHmac('sha256', SECRET).update(payload).digest('base64url');
}

/** The opaque `encrypted_content` of a compaction item carrying `summary`. */
export function sealCompaction(summary: string): string {
  const payload = Buffer.from(JSON.stringify({ summary }), 'utf8').toString('base64url');
  return `${PREFIX}${payload}.${sign(payload)}`;
}

/** The summary inside a compaction item this server issued; undefined when it did not issue it (or it was altered). */
export function openCompaction(encrypted: unknown): string | undefined {
  if (typeof encrypted !== 'string' || !encrypted.startsWith(PREFIX)) return undefined;
  const [payload, mac] = encrypted.slice(PREFIX.length).split('.');
  if (!payload || !mac) return undefined;
  const want = Buffer.from(sign(payload));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
  try {
    const summary = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).summary;
    return typeof summary === 'string' ? summary : undefined;
  } catch {
    return undefined;
  }
}

/** Top-level fields the compact endpoint accepts (openai v6 ResponseCompactParams, plus what the Codex CLI sends). */
const KNOWN_PARAMS = new Set([
  'model',
  'input',
  'instructions',
  'previous_response_id',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'service_tier',
  'tools',
  'parallel_tool_calls',
  'reasoning',
  'text',
]);
const ROLES = new Set(['user', 'assistant', 'system', 'developer']);

export interface CompactRejection {
  status: number;
  message: string;
  param: string | null;
  code: string | null;
}

const reject = (message: string, param: string | null, code: string | null = 'invalid_value', status = 400): CompactRejection => ({
  status,
  message,
  param,
  code,
});

/** Checks a compact request body as OpenAI's API does; null when it is valid. */
export function validateCompactRequest(body: any): CompactRejection | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return reject('The request body must be a JSON object.', null, null);
  for (const key of Object.keys(body)) {
    if (!KNOWN_PARAMS.has(key)) return reject(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
  }
  if (typeof body.model !== 'string' || !body.model) return reject("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (body.previous_response_id != null) {
    return reject(`Previous response with id '${body.previous_response_id}' not found.`, 'previous_response_id', 'previous_response_not_found');
  }
  if (body.input == null) return reject("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  if (typeof body.input === 'string') return null;
  if (!Array.isArray(body.input)) return reject("Invalid type for 'input': expected a string or an array of input items.", 'input', 'invalid_type');
  const calls = new Set<string>();
  for (const [i, item] of (body.input as any[]).entries()) {
    const param = `input[${i}]`;
    if (!item || typeof item !== 'object') return reject(`Invalid type for '${param}': expected an object.`, param, 'invalid_type');
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        if (!ROLES.has(item.role))
          return reject(`Invalid value: '${item.role}'. Supported values are: 'user', 'assistant', 'system', and 'developer'.`, `${param}.role`);
        if (typeof item.content !== 'string' && !Array.isArray(item.content))
          return reject(`Invalid type for '${param}.content'.`, `${param}.content`, 'invalid_type');
        break;
      case 'function_call':
        for (const f of ['call_id', 'name', 'arguments']) {
          if (typeof item[f] !== 'string') return reject(`Missing required parameter: '${param}.${f}'.`, `${param}.${f}`, 'missing_required_parameter');
        }
        calls.add(item.call_id);
        break;
      case 'function_call_output':
        if (typeof item.call_id !== 'string')
          return reject(`Missing required parameter: '${param}.call_id'.`, `${param}.call_id`, 'missing_required_parameter');
        if (!calls.has(item.call_id)) return reject(`No tool call found for function call output with call_id ${item.call_id}.`, 'input', null);
        break;
      case 'reasoning':
        if (!Array.isArray(item.summary)) return reject(`Missing required parameter: '${param}.summary'.`, `${param}.summary`, 'missing_required_parameter');
        break;
      case 'compaction':
        if (openCompaction(item.encrypted_content) === undefined) {
          return reject('The encrypted content for a compaction item could not be verified.', `${param}.encrypted_content`, 'invalid_encrypted_content');
        }
        break;
      default:
        return reject(
          `Invalid value: '${String(type)}'. Supported values are: 'message', 'function_call', 'function_call_output', 'reasoning' and 'compaction'.`,
          `${param}.type`,
        );
    }
  }
  return null;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
    req.on('close', () => resolve(req.complete ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The compacted response for a summary: the input's user messages, then the compaction item. */
export function compactedResponse(rec: RecordedRequest, summary: string, usage: ReturnType<typeof resolveUsage> | null) {
  const input: any[] = typeof rec.body.input === 'string' ? [{ role: 'user', content: rec.body.input }] : rec.body.input;
  const users = input.filter((i) => (i.type ?? 'message') === 'message' && i.role === 'user');
  return {
    id: `resp_cmp_${rec.seq}`,
    object: 'response.compaction',
    created_at: Math.floor(Date.now() / 1000),
    output: [
      ...users.map((u, k) => ({
        id: `msg_${rec.seq}_${k}`,
        type: 'message',
        status: 'completed',
        role: 'user',
        content: [{ type: 'input_text', text: textOf(u.content) }],
      })),
      { id: `cmp_${rec.seq}`, type: 'compaction', encrypted_content: sealCompaction(summary) },
    ],
    ...(usage
      ? {
          usage: {
            input_tokens: usage.inputTokens,
            input_tokens_details: { cached_tokens: usage.cachedInputTokens },
            output_tokens: usage.outputTokens,
            output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
            total_tokens: usage.inputTokens + usage.outputTokens,
          },
        }
      : {}),
  };
}

/** Serves one `/responses/compact` request; `record` gives it its sequence number and keeps it in the request log. */
export async function serveCompact<X extends OtherReply>(
  ex: ReplyExchange,
  opts: StartFakeModelServerOptions<X> & CompactServerOptions,
  record: (rec: RecordedRequest) => void,
): Promise<void> {
  const req = ex.req;
  if (req.method !== 'POST') req.resume();
  const raw = req.method === 'POST' ? await readBody(req) : '';
  if (raw === undefined || ex.gone) return;
  let body: any;
  try {
    body = raw.length ? JSON.parse(raw) : {};
  } catch {
    body = undefined;
  }
  const rec: RecordedRequest = { seq: 0, path: COMPACT_PATH, wire: 'responses', headers: {}, body, stream: false };
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) rec.headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  const role = header(req, 'x-infty-role');
  const runId = header(req, 'x-infty-run-id');
  const purpose = header(req, 'x-infty-purpose');
  if (role !== undefined) rec.role = role;
  if (runId !== undefined) rec.runId = runId;
  if (purpose !== undefined) rec.purpose = purpose;
  record(rec);

  const fail = (status: number, message: string, type: string, code: string | null, param: string | null = null) => {
    rec.status = 'fault';
    sendJson(ex, status, errorBody(message, type, code, param), { 'x-request-id': `req_${rec.seq}` });
  };
  if (opts.responsesCompact === false || req.method !== 'POST') {
    rec.fault = 'not_found';
    return fail(404, `Invalid URL (${req.method} ${COMPACT_PATH})`, 'invalid_request_error', 'unknown_url');
  }
  if (body === undefined) {
    rec.fault = 'invalid_request';
    return fail(400, 'We could not parse the JSON body of your request. (fake model server)', 'invalid_request_error', null);
  }
  const rejection = validateCompactRequest(body);
  if (rejection) {
    rec.fault = 'invalid_request';
    return fail(rejection.status, rejection.message, 'invalid_request_error', rejection.code, rejection.param);
  }

  let reply: ScriptedReply | X;
  try {
    reply = await opts.responder(rec);
  } catch (err) {
    rec.fault = 'responder_error';
    return fail(500, `fake model responder failed: ${err instanceof Error ? err.message : String(err)}`, 'server_error', 'responder_error');
  }
  if (!(await ex.sleep(reply.latencyMs ?? 0))) return;
  if (reply.kind === 'error') {
    const r = reply as Extract<ScriptedReply, { kind: 'error' }>;
    rec.fault = 'http';
    return fail(r.status, r.message, r.status >= 500 ? 'server_error' : 'invalid_request_error', r.code ?? null);
  }
  if (reply.kind !== 'message') {
    if (reply.kind !== 'tool_calls' && opts.answerOther) return opts.answerOther(ex, rec, reply as X);
    rec.fault = 'unknown_reply';
    return fail(500, `fake model: a compaction cannot be answered with a reply of kind "${reply.kind}"`, 'server_error', 'unknown_reply');
  }
  const message = reply as Extract<ScriptedReply, { kind: 'message' }>;
  const usage = message.omitUsage ? null : resolveUsage('responses', body, message.text.length, message.usage);
  sendJson(ex, 200, compactedResponse(rec, message.text, usage), { 'x-request-id': `req_${rec.seq}` });
  if (!ex.gone) rec.status = 'completed';
}
