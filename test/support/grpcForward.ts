/**
 * What the suite's gRPC proxies (grpcGate.ts, tlsProxy.ts) share: an HTTP/2 server in front of the
 * plaintext dev server that forwards each gRPC stream unchanged over one reused upstream session,
 * and closes everything it opened.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface GrpcForwarder {
  /** Forwards one gRPC stream to the upstream server: headers, body, response and trailers. */
  forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void;
  /** Starts listening on 127.0.0.1 and returns host:port. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

function withoutPseudoHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':') && value !== undefined) out[name] = value;
  }
  return out;
}

/** `server`'s streams may be forwarded to `upstreamAddress` (host:port, plaintext h2c). */
export function grpcForwarder(server: http2.Http2Server | http2.Http2SecureServer, upstreamAddress: string): GrpcForwarder {
  let upstream: http2.ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      const session = http2.connect(`http://${upstreamAddress}`);
      session.on('error', () => undefined);
      session.on('close', () => {
        if (upstream === session) upstream = undefined;
      });
      upstream = session;
    }
    return upstream;
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  return {
    forward(stream, headers) {
      if (stream.closed) return;
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
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers a gRPC call with a status instead of forwarding it. */
export function respondGrpcStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.closed) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) },
    { endStream: true },
  );
}
