/**
 * A scripted OpenAI-compatible HTTP server (plain node:http): the offline demo's model.
 *
 * Serves `POST /v1/responses` and `POST /v1/chat/completions` (also without the
 * `/v1` prefix), streaming (SSE) and not, faithfully enough for the real
 * `openai` v6 client. Every request is recorded; the reply is chosen by a
 * `Responder`. Replies of other kinds go to `answerOther`: the tests' fault
 * injection (test/support/fakeModel.ts) plugs in there and is not part of the product.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { renderChatCompletion, renderChatStream } from './chatWire';
import { isCompactPath, serveCompact } from './compactWire';
import { scriptedReasoning } from './reasoning';
import { errorBody, resolveUsage, sendJson } from './replyBasics';
import { renderResponse, renderResponseStream } from './responsesWire';
import type {
  FakeModelServer,
  OtherReply,
  RecordedRequest,
  ReplyExchange,
  Responder,
  ScriptedReply,
  SseFrame,
  StartFakeModelServerOptions,
  WireReply,
} from './types';
import { validateRequest } from './validate';

export { errorBody, estimateInputTokens, resolveUsage, sendJson } from './replyBasics';
export type { FakeModelServer, RecordedRequest, Responder, ScriptedReply, Usage } from './types';

const ROUTES: Record<string, { path: string; wire: 'responses' | 'chat' }> = {
  '/v1/responses': { path: '/v1/responses', wire: 'responses' },
  '/responses': { path: '/v1/responses', wire: 'responses' },
  '/v1/chat/completions': { path: '/v1/chat/completions', wire: 'chat' },
  '/chat/completions': { path: '/v1/chat/completions', wire: 'chat' },
};

/** Tracks whether the client is still there; lets waits end early on disconnect. */
class Exchange implements ReplyExchange {
  gone = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
  ) {
    req.on('error', () => {});
    res.on('error', () => {});
    const onGone = () => {
      if (this.gone) return;
      if (res.writableFinished) return; // normal completion
      this.gone = true;
      for (const w of this.waiters) w();
      this.waiters.clear();
    };
    // 'close' also fires when the socket dies before the response finished.
    res.on('close', onGone);
  }

  /** Resolves after `ms`, or as soon as the client disconnects. Returns false when the client is gone. */
  sleep(ms: number): Promise<boolean> {
    if (this.gone) return Promise.resolve(false);
    if (!(ms > 0)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(!this.gone);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Write unless the client is gone. */
  write(chunk: string): boolean {
    if (this.gone || this.res.destroyed || this.res.writableEnded) return false;
    this.res.write(chunk);
    return true;
  }

  end(chunk?: string): void {
    if (this.gone || this.res.destroyed || this.res.writableEnded) return;
    this.res.end(chunk);
  }
}

function lowerCaseHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (v: string | undefined) => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => settle(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => settle(undefined));
    req.on('close', () => settle(req.complete ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

export function toWireReply(rec: RecordedRequest, reply: Extract<ScriptedReply, { kind: 'message' | 'tool_calls' }>): WireReply {
  const calls =
    reply.kind === 'tool_calls'
      ? reply.calls.map((c, i) => ({
          callId: c.callId ?? `call_${rec.seq}_${i}`,
          name: c.name,
          arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
        }))
      : [];
  const text = reply.text;
  const reasoningChars = (reply.reasoning ?? []).reduce((n, r) => n + r.length, 0);
  const outputChars = (text ?? '').length + reasoningChars + calls.reduce((n, c) => n + c.arguments.length, 0);
  return {
    seq: rec.seq,
    model: reply.model ?? (typeof rec.body?.model === 'string' ? rec.body.model : 'fake-model'),
    createdAt: Math.floor(Date.now() / 1000),
    text,
    calls,
    usage: reply.omitUsage ? null : resolveUsage(rec.wire, rec.body, outputChars, reply.usage),
    reasoning: scriptedReasoning(rec, reply.reasoning ?? []),
    ...(reply.incomplete ? { incomplete: reply.incomplete } : {}),
  };
}

export function renderStream(rec: RecordedRequest, reply: WireReply): { frames: SseFrame[]; tail: SseFrame[] } {
  return rec.wire === 'responses' ? renderResponseStream(reply, rec.body) : renderChatStream(reply, rec.body);
}

export function renderJson(rec: RecordedRequest, reply: WireReply): Record<string, unknown> {
  return rec.wire === 'responses' ? renderResponse(reply, rec.body) : renderChatCompletion(reply, rec.body);
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

function isOwnReply(reply: ScriptedReply | OtherReply): reply is ScriptedReply {
  return reply.kind === 'message' || reply.kind === 'tool_calls' || reply.kind === 'error';
}

async function answer<X extends OtherReply>(
  ex: Exchange,
  rec: RecordedRequest,
  reply: ScriptedReply | X,
  answerOther: StartFakeModelServerOptions<X>['answerOther'],
): Promise<void> {
  const latency = reply.latencyMs ?? 0;
  if (!(await ex.sleep(latency))) return;
  if (!isOwnReply(reply)) {
    if (answerOther) return answerOther(ex, rec, reply as X);
    rec.status = 'fault';
    rec.fault = 'unknown_reply';
    sendJson(ex, 500, errorBody(`fake model: cannot answer a reply of kind "${reply.kind}"`, 'server_error', 'unknown_reply'));
    return;
  }
  if (reply.kind === 'error') {
    rec.status = 'fault';
    rec.fault = 'http';
    const type = reply.status >= 500 ? 'server_error' : 'invalid_request_error';
    sendJson(ex, reply.status, errorBody(reply.message, type, reply.code ?? null), { 'x-request-id': `req_${rec.seq}` });
    return;
  }
  const wireReply = toWireReply(rec, reply);
  if (!rec.stream) {
    sendJson(ex, 200, renderJson(rec, wireReply), { 'x-request-id': `req_${rec.seq}` });
    if (!ex.gone) rec.status = 'completed';
    return;
  }
  const { frames, tail } = renderStream(rec, wireReply);
  const all = [...frames, ...tail];
  // Spread chunks a little when a latency was asked for (about 10% extra in total, <= 25ms per chunk).
  const gap = reply.streamGapMs ?? (latency > 0 ? Math.min(25, Math.floor((latency * 0.1) / all.length)) : 0);
  ex.res.writeHead(200, { ...SSE_HEADERS, 'x-request-id': `req_${rec.seq}` });
  ex.res.flushHeaders();
  for (const [i, frame] of all.entries()) {
    if (!ex.write(frame)) return;
    const last = i === all.length - 1;
    // The client may hang up as soon as it has the final event: it has been answered in full.
    if (last) rec.status = 'completed';
    else if (gap > 0 && !(await ex.sleep(gap))) return;
  }
  ex.end();
}

export async function startFakeModelServer<X extends OtherReply = never>(opts: StartFakeModelServerOptions<X>): Promise<FakeModelServer<ScriptedReply | X>> {
  let responder: Responder<ScriptedReply | X> = opts.responder;
  const host = opts.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ex = new Exchange(req, res);
    const pathname = new URL(req.url ?? '/', 'http://fake.invalid').pathname.replace(/\/+$/, '') || '/';
    if (isCompactPath(pathname)) return serveCompact(ex, opts, (rec) => void requests.push(Object.assign(rec, { seq: ++seq })));
    const route = ROUTES[pathname];
    if (!route || req.method !== 'POST') {
      req.resume();
      sendJson(ex, 404, errorBody(`Unknown request URL: ${req.method} ${pathname}. (fake model server)`, 'invalid_request_error', 'unknown_url'));
      return;
    }
    const raw = await readBody(req);
    if (raw === undefined || ex.gone) return; // client went away mid-body
    let body: any;
    try {
      body = raw.length ? JSON.parse(raw) : {};
    } catch {
      sendJson(ex, 400, errorBody('We could not parse the JSON body of your request. (fake model server)', 'invalid_request_error', null));
      return;
    }
    const headers = lowerCaseHeaders(req.headers);
    const rec: RecordedRequest = {
      seq: ++seq,
      path: route.path,
      wire: route.wire,
      headers,
      body,
      stream: body?.stream === true,
    };
    if (headers['x-infty-role'] !== undefined) rec.role = headers['x-infty-role'];
    if (headers['x-infty-run-id'] !== undefined) rec.runId = headers['x-infty-run-id'];
    if (headers['x-infty-purpose'] !== undefined) rec.purpose = headers['x-infty-purpose'];
    res.on('close', () => {
      if (!res.writableFinished) rec.clientAbortedAt = Date.now();
    });
    requests.push(rec);

    const rejection = validateRequest(rec, opts.chatUnsupportedParams, opts.refuse);
    if (rejection) {
      rec.status = 'fault';
      rec.fault = 'invalid_request';
      sendJson(ex, 400, errorBody(rejection.message, 'invalid_request_error', rejection.code, rejection.param));
      return;
    }

    let reply: ScriptedReply | X;
    try {
      reply = await responder(rec);
    } catch (err) {
      rec.status = 'fault';
      rec.fault = 'responder_error';
      const msg = err instanceof Error ? err.message : String(err);
      sendJson(ex, 500, errorBody(`fake model responder failed: ${msg}`, 'server_error', 'responder_error'));
      return;
    }
    if (ex.gone) return;
    await answer(ex, rec, reply, opts.answerOther);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      // Never let a handler error escape; answer 500 if still possible.
      try {
        if (!res.headersSent && !res.destroyed) {
          const text = JSON.stringify(errorBody(`fake model server error: ${String(err)}`, 'server_error', null));
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(text);
        } else if (!res.writableEnded) {
          res.destroy();
        }
      } catch {
        /* ignore */
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', () => {});

  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://${urlHost}:${port}/v1`,
    requests,
    setResponder(r: Responder<ScriptedReply | X>) {
      responder = r;
    },
    requestsFor(role: string) {
      return requests.filter((r) => r.role === role);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        sockets.clear();
      });
      return closing;
    },
  };
}
