/**
 * A failed connection to Temporal as one clear line (exit 3, docs/interface.md §3): credentials the
 * server refused, a TLS handshake problem naming the variable to check, or else the caller's
 * "cannot reach" message. The API key is never part of it.
 */
import type { TLSConfig } from '@temporalio/client';
import { UnreachableError } from '../errors';
import { probeTlsHandshake } from './tlsProbe';

export interface TemporalConnectionSettings {
  temporalAddress: string;
  temporalTls: TLSConfig | undefined;
  temporalApiKey: string | undefined;
}

type TlsProblem = 'untrusted-server' | 'name-mismatch' | 'server-cert-dates' | 'client-cert-required' | 'client-cert-refused' | 'not-tls' | 'closed' | 'other';

/** Patterns over OpenSSL (Node's gRPC client, the probe) and rustls (the native connection) wording; first match wins. */
const TLS_PROBLEMS: [TlsProblem, RegExp][] = [
  ['client-cert-required', /certificate required|CertificateRequired/i],
  [
    'client-cert-refused',
    /alert (unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate revoked|certificate expired|decrypt error|access denied)|fatal alert: (UnknownCA|BadCertificate|CertificateUnknown|UnsupportedCertificate|CertificateRevoked|CertificateExpired|DecryptError|AccessDenied)/i,
  ],
  ['name-mismatch', /NotValidForName|ALTNAME_INVALID|does not match certificate|is not in the cert's altnames/i],
  ['server-cert-dates', /certificate has expired|certificate is not yet valid|InvalidCertificate\((Expired|NotValidYet)/i],
  [
    'untrusted-server',
    /UnknownIssuer|unable to verify|self[- ]signed certificate|unable to get (local )?issuer certificate|certificate chain|BadSignature|UNABLE_TO_GET_ISSUER/i,
  ],
  ['not-tls', /wrong version number|InvalidContentType|packet length too long|unknown protocol|CorruptMessage/i],
  ['closed', /closed the connection (right after|during) the TLS handshake/i],
];

function classifyTlsProblem(text: string): TlsProblem | undefined {
  return TLS_PROBLEMS.find(([, pattern]) => pattern.test(text))?.[0];
}

const CHECK_ALL = 'check TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_SERVER_NAME';

function tlsAdvice(problem: TlsProblem, settings: TemporalConnectionSettings): string {
  const mtls = settings.temporalTls?.clientCertPair !== undefined;
  switch (problem) {
    case 'untrusted-server':
      return "the server's certificate is not signed by a CA this client trusts; set TEMPORAL_TLS_CA to the PEM file of the CA that signed it";
    case 'name-mismatch':
      return "the server's certificate is not issued for the name connected to; use a name it holds in TEMPORAL_ADDRESS, or set TEMPORAL_TLS_SERVER_NAME to one";
    case 'server-cert-dates':
      return "the server's certificate has expired or is not valid yet; renew it, or check this machine's clock";
    case 'client-cert-required':
      return 'the server requires a client certificate (mTLS); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY';
    case 'client-cert-refused':
      return 'the server refused the client certificate; check TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (a certificate signed by a CA the server trusts, still valid, and its key)';
    case 'not-tls':
      return 'the server does not speak TLS on this port; set TEMPORAL_TLS=false for a plaintext server, or check the port in TEMPORAL_ADDRESS';
    case 'closed':
      return mtls
        ? 'servers do this when they refuse the client certificate; check TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (a certificate signed by a CA the server trusts, still valid, and its key)'
        : CHECK_ALL;
    case 'other':
      return CHECK_ALL;
  }
}

/** The text of an error and its causes (gRPC status details included). */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    const details = (e as { details?: unknown }).details;
    if (typeof details === 'string') parts.push(details);
  }
  return parts.join(' | ');
}

/** "…:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…" → "tlsv13 alert certificate required". */
function readableReason(text: string): string {
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(text)?.[1];
  if (openssl) return openssl;
  const rustls = /InvalidCertificate\((\w+)|received fatal alert: \w+|InvalidMessage\(\w+\)/.exec(text);
  if (rustls) return rustls[1] ? `invalid certificate: ${rustls[1]}` : rustls[0];
  const lastError = /Last error: (?:Error(?: \[[A-Z_]+\])?: )?(.*?)(?:\. Resolution note|$)/.exec(text)?.[1];
  return (lastError ?? text).replace(/\s+/g, ' ').trim().slice(0, 300);
}

const GRPC_UNAUTHENTICATED = 16;
const GRPC_PERMISSION_DENIED = 7;

function credentialsRefusal(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === GRPC_UNAUTHENTICATED || code === GRPC_PERMISSION_DENIED) return String((e as { details?: unknown }).details ?? (e as Error).message);
  }
  const text = errorText(err);
  if (/does not have valid authentication credentials|does not have permission|UNAUTHENTICATED|PERMISSION_DENIED/i.test(text)) {
    return /message: "([^"]*)"/.exec(text)?.[1] ?? readableReason(text);
  }
  return undefined;
}

function withoutSecret(message: string, secret: string | undefined): string {
  return secret ? message.split(secret).join('***') : message;
}

/** Credentials (an API key, a client certificate) the server refused, the variables to check named; never the key itself. */
export function credentialsRefusedMessage(settings: Pick<TemporalConnectionSettings, 'temporalAddress' | 'temporalApiKey'>, refusal: string): string {
  const advice = settings.temporalApiKey
    ? 'check TEMPORAL_API_KEY (a key valid for this namespace), or the client certificate in TEMPORAL_TLS_CERT'
    : 'set TEMPORAL_API_KEY, or a client certificate it accepts in TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY';
  return withoutSecret(
    `Temporal at ${settings.temporalAddress} refused this client's credentials (${readableReason(refusal)}); ${advice}`,
    settings.temporalApiKey,
  );
}

/** The error to raise for a failed connection; `cannotReach` is the message when it is neither TLS nor credentials. */
export async function temporalConnectFailure(settings: TemporalConnectionSettings, cause: unknown, cannotReach: string): Promise<UnreachableError> {
  const address = settings.temporalAddress;
  const refusal = credentialsRefusal(cause);
  if (refusal !== undefined) return new UnreachableError(credentialsRefusedMessage(settings, refusal), { cause });
  if (settings.temporalTls) {
    let text = errorText(cause);
    let problem = classifyTlsProblem(text);
    if (!problem) {
      const probe = await probeTlsHandshake(address, settings.temporalTls);
      if (probe.kind === 'refused') {
        text = probe.reason;
        problem = classifyTlsProblem(text) ?? 'other';
      }
    }
    if (problem) {
      const message = `TLS connection to Temporal at ${address} failed (${readableReason(text)}): ${tlsAdvice(problem, settings)}`;
      return new UnreachableError(withoutSecret(message, settings.temporalApiKey), { cause });
    }
  }
  return new UnreachableError(withoutSecret(cannotReach, settings.temporalApiKey), { cause });
}
