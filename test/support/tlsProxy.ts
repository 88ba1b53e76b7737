/**
 * A TLS terminator in front of the suite's plaintext dev server (`temporal server start-dev` has
 * no TLS flags): an HTTP/2 TLS server (ALPN h2) that forwards every gRPC stream to the dev server,
 * optionally requiring a client certificate (mTLS) or an `authorization: Bearer <key>` header.
 */

import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { grpcForwarder, respondGrpcStatus } from './grpcForward';

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

const UNAUTHENTICATED = 16;

export async function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  const mtls = opts.clientCa !== undefined;
  const server = http2.createSecureServer({
    cert: readFileSync(opts.serverCert),
    key: readFileSync(opts.serverKey),
    ALPNProtocols: ['h2'],
    ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(opts.clientCa!) } : {}),
  });
  const forwarder = grpcForwarder(server, opts.upstream);

  const proxy: TlsProxy = {
    address: '',
    authorizations: [],
    forwarded: 0,
    handshakeFailures: [],
    close: () => forwarder.close(),
  };
  server.on('tlsClientError', (err) => proxy.handshakeFailures.push(err.message));

  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization;
    if (typeof authorization === 'string') proxy.authorizations.push(authorization);
    if (opts.requireApiKey !== undefined && authorization !== `Bearer ${opts.requireApiKey}`) {
      respondGrpcStatus(stream, UNAUTHENTICATED, 'missing or invalid API key');
      return;
    }
    proxy.forwarded += 1;
    forwarder.forward(stream, headers);
  });

  proxy.address = await forwarder.listen();
  return proxy;
}
