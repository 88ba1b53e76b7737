/**
 * A plaintext HTTP/2 (h2c) proxy in front of the suite's dev server that sees each gRPC call's
 * method and can hold it (forwarded only when released) or refuse it (answered with a gRPC status,
 * never forwarded). Lets a test put something between two calls of one CLI command — e.g. a run
 * that ends between a fleet command's listing and its batch operation — without racing it.
 */
import * as http2 from 'node:http2';
import { grpcForwarder, respondGrpcStatus } from './grpcForward';

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

export async function startGrpcGate(upstreamAddress: string): Promise<GrpcGate> {
  const server = http2.createServer();
  const forwarder = grpcForwarder(server, upstreamAddress);
  const holds = new Map<string, { gate: Promise<void>; arrived: () => void }>();
  const refusals = new Map<string, { code: number; message: string }>();

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
    close: () => forwarder.close(),
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
    if (!refusal) return forwarder.forward(stream, headers);
    stream.resume(); // drain the request body
    respondGrpcStatus(stream, refusal.code, refusal.message);
  });

  gate.address = await forwarder.listen();
  return gate;
}
