/**
 * A TLS terminator in front of the suite's plaintext dev server (`temporal server start-dev` has
 * no TLS flags): an HTTP/2 TLS server (ALPN h2) that forwards every gRPC stream to the dev server,
 * optionally requiring a client certificate (mTLS) or an `authorization: Bearer <key>` header.
 */

import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface TlsProxyOptions {
  /** host:port of the plaintext Temporal frontend. */
  upstream: string;
  serverCert: string;
  serverKey: string;
  /** mTLS: client certificates must be signed by this CA. */
  clientCa?: string;
  /** Streams without `authorization: Bearer <apiKey>` get gRPC status 16 UNAUTHENTICATED. */
  requireApiKey?: string;
}

export interface TlsProxy {
  address: string;
  /** Every `authorization` header value seen, in order. */
  authorizations: string[];
  /** Streams forwarded to the dev server. */
  forwarded: number;
  /** TLS handshakes that failed (e.g. a client certificate the CA did not sign). */
  handshakeFailures: string[];
  close(): Promise<void>;
}

const UNAUTHENTICATED = '16';

function withoutPseudoHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':') && value !== undefined) out[name] = value;
  }
  return out;
}

export async function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  const mtls = opts.clientCa !== undefined;
  const server = http2.createSecureServer({
    cert: readFileSync(opts.serverCert),
    key: readFileSync(opts.serverKey),
    ALPNProtocols: ['h2'],
    ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(opts.clientCa!) } : {}),
  });
  let upstream: http2.ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      const session = http2.connect(`http://${opts.upstream}`);
      session.on('error', () => undefined);
      session.on('close', () => {
        if (upstream === session) upstream = undefined;
      });
      upstream = session;
    }
    return upstream;
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  const proxy: TlsProxy = {
    address: '',
    authorizations: [],
    forwarded: 0,
    handshakeFailures: [],
    close: async () => {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('tlsClientError', (err) => proxy.handshakeFailures.push(err.message));

  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization;
    if (typeof authorization === 'string') proxy.authorizations.push(authorization);
    if (opts.requireApiKey !== undefined && authorization !== `Bearer ${opts.requireApiKey}`) {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': UNAUTHENTICATED, 'grpc-message': 'missing or invalid API key' },
        { endStream: true },
      );
      return;
    }
    proxy.forwarded += 1;
    const request = upstreamSession().request({ ...withoutPseudoHeaders(headers), ':method': 'POST', ':path': headers[':path'] });
    let trailers: http2.OutgoingHttpHeaders = {};
    request.on('response', (responseHeaders) => {
      if (stream.closed) return;
      if (responseHeaders['grpc-status'] !== undefined) {
        // A trailers-only response (an error): headers and status in one frame, no body.
        stream.respond({ ...withoutPseudoHeaders(responseHeaders), ':status': responseHeaders[':status'] }, { endStream: true });
        return;
      }
      stream.respond({ ...withoutPseudoHeaders(responseHeaders), ':status': responseHeaders[':status'] }, { waitForTrailers: true });
      request.pipe(stream);
    });
    request.on('trailers', (t) => (trailers = withoutPseudoHeaders(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(request);
    request.on('error', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
