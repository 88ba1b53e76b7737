/**
 * A plaintext HTTP/2 (h2c) proxy in front of the suite's dev server that sees each gRPC call's
 * method and can hold it (forwarded only when released) or refuse it (answered with a gRPC status,
 * never forwarded). Lets a test put something between two calls of one CLI command — e.g. a run
 * that ends between a fleet command's listing and its batch operation — without racing it.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface GrpcGate {
  address: string;
  /** The method names (the last part of each call's path) seen, in order. */
  calls: string[];
  /** Holds every later call of `method` until `release()`; `arrived` resolves when the first one comes. */
  hold(method: string): { arrived: Promise<void>; release(): void };
  /** Answers every later call of `method` (and any held one when it is released) with this gRPC status instead of forwarding it. */
  refuse(method: string, code: number, message: string): void;
  close(): Promise<void>;
}

function withoutPseudoHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':') && value !== undefined) out[name] = value;
  }
  return out;
}

export async function startGrpcGate(upstreamAddress: string): Promise<GrpcGate> {
  const server = http2.createServer();
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
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const holds = new Map<string, { gate: Promise<void>; arrived: () => void }>();
  const refusals = new Map<string, { code: number; message: string }>();

  const forward = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    if (stream.closed) return;
    const request = upstreamSession().request({ ...withoutPseudoHeaders(headers), ':method': 'POST', ':path': headers[':path'] });
    let trailers: http2.OutgoingHttpHeaders = {};
    request.on('response', (responseHeaders) => {
      if (stream.closed) return;
      if (responseHeaders['grpc-status'] !== undefined) {
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
    stream.on('close', () => {
      if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
    });
  };

  const gate: GrpcGate = {
    address: '',
    calls: [],
    hold(method) {
      let release = () => {};
      let arrived = () => {};
      const gatePromise = new Promise<void>((resolve) => (release = resolve));
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      holds.set(method, { gate: gatePromise, arrived });
      return {
        arrived: arrivedPromise,
        release: () => {
          holds.delete(method);
          release();
        },
      };
    },
    refuse(method, code, message) {
      refusals.set(method, { code, message });
    },
    close: async () => {
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  server.on('stream', async (stream, headers) => {
    stream.on('error', () => undefined);
    const method =
      String(headers[':path'] ?? '')
        .split('/')
        .pop() ?? '';
    gate.calls.push(method);
    const held = holds.get(method);
    if (held) {
      stream.pause(); // the request body waits in the stream until the call is released
      held.arrived();
      await held.gate;
    }
    // A refusal set while the call was held applies to it too.
    const refusal = refusals.get(method);
    if (!refusal) return forward(stream, headers);
    stream.resume(); // drain the request body
    if (stream.closed) return;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(refusal.code), 'grpc-message': encodeURIComponent(refusal.message) },
      { endStream: true },
    );
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gate.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gate;
}
