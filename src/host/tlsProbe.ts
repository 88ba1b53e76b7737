/**
 * One TLS handshake with the Temporal frontend, made only to explain a failed connection: the gRPC
 * client reports a bad handshake as "Failed to connect before the deadline", and the native one
 * sometimes only as a reset. After the handshake it sends the HTTP/2 preface and waits for the
 * server's first bytes, since with TLS 1.3 a server refuses a client certificate after the
 * client considers the handshake done.
 */

import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';

export type TlsProbeResult =
  /** The server completed the handshake and answered. */
  | { kind: 'accepted' }
  /** The handshake failed, or the server closed the connection right after it. */
  | { kind: 'refused'; reason: string }
  /** No TCP connection, or no answer in time: nothing to say about TLS. */
  | { kind: 'inconclusive' };

/** Empty SETTINGS frame after the client connection preface (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

function splitAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  return { host: m?.[1] ?? address, port: Number(m?.[2] ?? 7233) };
}

export function probeTlsHandshake(address: string, tls: TLSConfig, timeoutMs = 3_000): Promise<TlsProbeResult> {
  const { host, port } = splitAddress(address);
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    let handshakeDone = false;
    const socket = connect({
      host,
      port,
      servername,
      ca: tls.serverRootCACertificate ? Buffer.from(tls.serverRootCACertificate) : undefined,
      cert: tls.clientCertPair ? Buffer.from(tls.clientCertPair.crt) : undefined,
      key: tls.clientCertPair ? Buffer.from(tls.clientCertPair.key) : undefined,
      ALPNProtocols: ['h2'],
    });
    const finish = (result: TlsProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ kind: 'inconclusive' }), timeoutMs);
    socket.once('secureConnect', () => {
      handshakeDone = true;
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => finish({ kind: 'accepted' }));
    const closed = () =>
      handshakeDone ? 'the server closed the connection right after the TLS handshake' : 'the server closed the connection during the TLS handshake';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!handshakeDone && NETWORK_ERRORS.has(err.code ?? '')) finish({ kind: 'inconclusive' });
      else if (err.code === 'ECONNRESET' || /socket disconnected before secure TLS/.test(err.message)) finish({ kind: 'refused', reason: closed() });
      else finish({ kind: 'refused', reason: err.message.trim() });
    });
    socket.once('close', () => finish({ kind: 'refused', reason: closed() }));
  });
}
