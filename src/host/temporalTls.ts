/**
 * TLS, mTLS and API-key settings for connections to Temporal, from the environment
 * (docs/interface.md §4). Files are read and checked here, once, so a missing file, a file that is
 * not PEM, or a key that does not belong to its certificate is a usage error before anything starts.
 * The result is the `tls` and `apiKey` options of both `Connection.connect` and
 * `NativeConnection.connect`.
 */

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { UsageError } from '../errors';

export interface TemporalAuth {
  /** undefined: plaintext. */
  tls: TLSConfig | undefined;
  apiKey: string | undefined;
}

/** Each setting's variable, then the alias Temporal's own environment configuration uses; the first wins. */
export const TLS_VARIABLES = {
  cert: ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
  key: ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
  ca: ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'],
  serverName: ['TEMPORAL_TLS_SERVER_NAME'],
} as const;

interface Setting {
  name: string;
  value: string;
}

function setting(env: NodeJS.ProcessEnv, names: readonly string[]): Setting | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

export function temporalAuthFromEnv(env: NodeJS.ProcessEnv): TemporalAuth {
  const cert = setting(env, TLS_VARIABLES.cert);
  const key = setting(env, TLS_VARIABLES.key);
  const ca = setting(env, TLS_VARIABLES.ca);
  const serverName = setting(env, TLS_VARIABLES.serverName);
  const apiKey = apiKeyFrom(env.TEMPORAL_API_KEY);
  const forced = tlsSwitch(env.TEMPORAL_TLS);
  const tlsSettings = [cert, key, ca, serverName].filter((s): s is Setting => s !== undefined);
  if (forced === false) {
    if (tlsSettings.length > 0) {
      throw new UsageError(
        `TEMPORAL_TLS=false turns TLS off, but ${tlsSettings.map((s) => s.name).join(', ')} ${tlsSettings.length > 1 ? 'are' : 'is'} set; unset one or the other`,
      );
    }
    return { tls: undefined, apiKey };
  }
  if (forced === undefined && tlsSettings.length === 0 && apiKey === undefined) return { tls: undefined, apiKey };
  if (cert && !key)
    throw new UsageError(
      `${cert.name} is set but TEMPORAL_TLS_KEY is not: mTLS needs the client certificate and its private key; set TEMPORAL_TLS_KEY to the key's PEM file`,
    );
  if (key && !cert)
    throw new UsageError(
      `${key.name} is set but TEMPORAL_TLS_CERT is not: mTLS needs the client certificate and its private key; set TEMPORAL_TLS_CERT to the certificate's PEM file`,
    );
  const tls: TLSConfig = {};
  if (ca) tls.serverRootCACertificate = readCertificates(ca, "the CA certificate(s) that signed the Temporal server's certificate");
  if (cert && key) tls.clientCertPair = readCertificatePair(cert, key);
  if (serverName) tls.serverNameOverride = serverName.value;
  return { tls, apiKey };
}

function tlsSwitch(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new UsageError(`TEMPORAL_TLS must be "true" or "false", got "${value}"`);
}

/** Surrounding whitespace (a trailing newline from a file) is dropped; the key itself is never printed. */
function apiKeyFrom(value: string | undefined): string | undefined {
  const key = value?.trim();
  if (!key) return undefined;
  if (!/^[\x21-\x7e]+$/.test(key)) {
    throw new UsageError('TEMPORAL_API_KEY contains spaces or characters that cannot be sent in a gRPC header; check its value (not shown here)');
  }
  return key;
}

function readPemFile(s: Setting, what: string): Buffer {
  try {
    return readFileSync(s.value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot be read (${(err as Error).message})`;
    throw new UsageError(`${s.name}=${s.value}: the file ${problem}; set ${s.name} to the PEM file of ${what}`);
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM file, checked; at least one. */
function parseCertificates(s: Setting, pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(CERTIFICATE_BLOCK) ?? [];
  const notPem = (why: string) => new UsageError(`${s.name}=${s.value}: ${why}; set ${s.name} to the PEM file of ${what}`);
  if (blocks.length === 0) throw notPem('not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)');
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw notPem(`not a valid PEM certificate (${(err as Error).message})`);
    }
  });
}

function readCertificates(s: Setting, what: string): Buffer {
  const pem = readPemFile(s, what);
  parseCertificates(s, pem, what);
  return pem;
}

function parsePrivateKey(s: Setting, pem: Buffer): KeyObject {
  const text = pem.toString('latin1');
  const fix = `set ${s.name} to the PEM file of the client certificate's private key`;
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new UsageError(`${s.name}=${s.value}: the private key is encrypted; Temporal needs it unencrypted (openssl pkey -in KEY -out PLAIN_KEY)`);
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text))
    throw new UsageError(`${s.name}=${s.value}: not a PEM private key (no "-----BEGIN PRIVATE KEY-----" block); ${fix}`);
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new UsageError(`${s.name}=${s.value}: not a valid PEM private key (${(err as Error).message}); ${fix}`);
  }
}

function readCertificatePair(cert: Setting, key: Setting): { crt: Buffer; key: Buffer } {
  const crtPem = readPemFile(cert, 'the client certificate');
  const [leaf] = parseCertificates(cert, crtPem, 'the client certificate');
  const keyPem = readPemFile(key, "the client certificate's private key");
  if (!leaf!.checkPrivateKey(parsePrivateKey(key, keyPem))) {
    throw new UsageError(
      `${key.name}=${key.value} is not the private key of the certificate in ${cert.name}=${cert.value} (subject ${leaf!.subject.replace(/\n/g, ', ')}); set both to the same certificate and key`,
    );
  }
  return { crt: crtPem, key: keyPem };
}
