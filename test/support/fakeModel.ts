/**
 * The tests' fake model: the product's scripted model server (src/fakeModel, which the offline
 * demo uses) plus fault injection, which stays out of the product. A reply of kind 'fault' is
 * answered by `applyFault` through the server's `answerOther` hook.
 *
 * Kept free of vitest imports: bench/ (compiled by tsconfig.json) uses it too.
 */
import {
  errorBody,
  estimateInputTokens,
  renderJson,
  renderStream,
  SSE_HEADERS,
  sendJson,
  startFakeModelServer as startScriptedModelServer,
  toWireReply,
} from '../../src/fakeModel/server';
import type * as Product from '../../src/fakeModel/types';
import type { RecordedRequest, ReplyExchange, WireReply } from '../../src/fakeModel/types';

export { estimateInputTokens } from '../../src/fakeModel/server';
export type { RecordedRequest, ToolCallSpec, Usage } from '../../src/fakeModel/types';

export type Fault =
  /** JSON error body {error:{message,type,param,code}}; `retry-after` / `retry-after-ms` headers when set. */
  | { kind: 'http'; status: number; retryAfterSeconds?: number; retryAfterMs?: number; code?: string; message?: string }
  /** Destroy the socket without answering. */
  | { kind: 'drop' }
  /** Streams: some events, then a clean end without the completion event / [DONE]. Non-stream: half a JSON body. */
  | { kind: 'truncated_stream' }
  /** 200 with a body that is not JSON (for streams: an SSE data line that is not JSON). */
  | { kind: 'invalid_json' }
  /**
   * Streams: some events, then the error as OpenAI reports it inside a stream (Responses: an
   * `event: error` frame, a ResponseErrorEvent; Chat: a `data: {"error": {...}}` chunk), then the end.
   * Non-stream: HTTP 500 with the same error.
   */
  | { kind: 'stream_error'; message?: string; code?: string }
  /** Never answer (until the client aborts or the server closes). */
  | { kind: 'hang' };

export type FaultReply = { kind: 'fault'; fault: Fault; latencyMs?: number };

/** What a test script may answer: the product's replies (message, tool_calls, error) or a fault. */
export type ScriptedReply = Product.ScriptedReply | FaultReply;
export type Responder = Product.Responder<ScriptedReply>;
export type FakeModelServer = Product.FakeModelServer<ScriptedReply>;
export type StartFakeModelServerOptions = Omit<Product.StartFakeModelServerOptions<FaultReply>, 'answerOther'>;

/** The scripted model server with fault injection: rec.status 'fault', rec.fault the fault's kind. */
export function startFakeModelServer(opts: StartFakeModelServerOptions): Promise<FakeModelServer> {
  return startScriptedModelServer<FaultReply>({ ...opts, answerOther: (ex, rec, reply) => applyFault(ex, rec, reply.fault) });
}

/** Context window quoted in the fake `context_length_exceeded` message. */
const FAKE_CONTEXT_WINDOW = 128000;

function defaultHttpMessage(status: number): { message: string; type: string; code: string | null } {
  if (status === 429) {
    return {
      message: 'Rate limit reached for requests (fake model server). Please try again later.',
      type: 'requests',
      code: 'rate_limit_exceeded',
    };
  }
  if (status === 401) return { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 404) return { message: 'The model does not exist.', type: 'invalid_request_error', code: 'model_not_found' };
  if (status === 413) return { message: 'Request Entity Too Large', type: 'invalid_request_error', code: 'request_too_large' };
  if (status >= 500) {
    return {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      code: null,
    };
  }
  return { message: `Fake model server error (HTTP ${status}).`, type: 'invalid_request_error', code: null };
}

function untilGone(ex: ReplyExchange): Promise<void> {
  return new Promise((resolve) => (ex.gone || ex.res.destroyed ? resolve() : ex.res.once('close', () => resolve())));
}

async function applyFault(ex: ReplyExchange, rec: RecordedRequest, fault: Fault): Promise<void> {
  rec.status = 'fault';
  rec.fault = fault.kind;
  switch (fault.kind) {
    case 'http': {
      const def = defaultHttpMessage(fault.status);
      let message = fault.message ?? def.message;
      let type = def.type;
      let param: string | null = null;
      const code = fault.code ?? def.code;
      if (fault.code === 'context_length_exceeded') {
        type = 'invalid_request_error';
        param = rec.wire === 'chat' ? 'messages' : 'input';
        if (fault.message === undefined) {
          const got = Math.max(FAKE_CONTEXT_WINDOW + 1, estimateInputTokens(rec.wire, rec.body));
          message =
            `This model's maximum context length is ${FAKE_CONTEXT_WINDOW} tokens. ` +
            `However, your messages resulted in ${got} tokens. Please reduce the length of the messages.`;
        }
      }
      const headers: Record<string, string> = { 'x-request-id': `req_${rec.seq}` };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      sendJson(ex, fault.status, errorBody(message, type, code, param), headers);
      return;
    }
    case 'drop': {
      ex.req.socket.destroy();
      return;
    }
    case 'hang': {
      await untilGone(ex);
      return;
    }
    case 'invalid_json': {
      if (rec.stream) {
        ex.res.writeHead(200, SSE_HEADERS);
        const prefix = rec.wire === 'responses' ? 'event: response.created\n' : '';
        ex.end(`${prefix}data: {"id": "broken", this is not JSON\n\n`);
      } else {
        const text = '<html><body>502 Bad Gateway (not JSON)</body></html>';
        ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        ex.end(text);
      }
      return;
    }
    case 'stream_error': {
      const message = fault.message ?? 'The server had an error while processing your request. Sorry about that!';
      const code = fault.code ?? 'server_error';
      if (!rec.stream) {
        sendJson(ex, 500, errorBody(message, 'server_error', code), { 'x-request-id': `req_${rec.seq}` });
        return;
      }
      const { frames } = renderStream(rec, toWireReply(rec, { kind: 'message', text: 'This reply fails part way. '.repeat(2) }));
      const sent = frames.slice(0, Math.min(frames.length, 3));
      ex.res.writeHead(200, { ...SSE_HEADERS, 'x-request-id': `req_${rec.seq}` });
      ex.res.flushHeaders();
      for (const f of sent) ex.write(f);
      ex.end(
        rec.wire === 'responses'
          ? `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, sequence_number: sent.length })}\n\n`
          : `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`,
      );
      return;
    }
    case 'truncated_stream': {
      const filler: WireReply = toWireReply(rec, {
        kind: 'tool_calls',
        text: 'This reply was cut off before it completed; the rest never arrives. '.repeat(2),
        calls: [{ name: 'truncated', arguments: { note: 'this call is never completed' } }],
      });
      if (rec.stream) {
        const { frames } = renderStream(rec, filler);
        const n = Math.min(frames.length, Math.max(2, Math.ceil(frames.length / 2)));
        ex.res.writeHead(200, SSE_HEADERS);
        ex.res.flushHeaders();
        for (const f of frames.slice(0, n)) ex.write(f);
        ex.end();
      } else {
        const full = JSON.stringify(renderJson(rec, filler));
        // No content-length: a clean chunked end after half the document.
        ex.res.writeHead(200, { 'content-type': 'application/json' });
        ex.end(full.slice(0, Math.floor(full.length / 2)));
      }
      return;
    }
  }
}
