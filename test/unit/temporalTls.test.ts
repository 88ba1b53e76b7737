/** TLS / mTLS / API-key settings from the environment (docs/interface.md §4), and the connect-failure messages. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { UnreachableError, UsageError } from '../../src/errors';
import { temporalConnectFailure } from '../../src/host/temporalConnectFailure';
import { temporalAuthFromEnv } from '../../src/host/temporalTls';
import { makeTestCerts, opensslAvailable, type TestCerts } from '../support/certs';

function usageError(env: NodeJS.ProcessEnv): string {
  try {
    temporalAuthFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe.skipIf(!opensslAvailable())('temporalAuthFromEnv', () => {
  let c: TestCerts;
  let garbage: string;
  let fakePemKey: string;
  let encryptedKey: string;
  let dir: string;

  beforeAll(() => {
    c = makeTestCerts();
    garbage = join(c.dir, 'garbage.pem');
    writeFileSync(garbage, 'hello, not a certificate\n');
    fakePemKey = join(c.dir, 'fake.key');
    writeFileSync(fakePemKey, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    encryptedKey = join(c.dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', c.clientKey, '-aes256', '-passout', 'pass:secret', '-out', encryptedKey]);
    dir = join(c.dir, 'a-directory');
    mkdirSync(dir);
  });
  afterAll(() => c?.remove());

  it('is plaintext without any variable', () => {
    expect(temporalAuthFromEnv({})).toEqual({ tls: undefined, apiKey: undefined });
    expect(loadConfig({})).toMatchObject({ temporalTls: undefined, temporalApiKey: undefined });
  });

  it('TEMPORAL_TLS=true: TLS with the system roots; an API key turns TLS on unless TEMPORAL_TLS=false', () => {
    expect(temporalAuthFromEnv({ TEMPORAL_TLS: 'true' })).toEqual({ tls: {}, apiKey: undefined });
    expect(temporalAuthFromEnv({ TEMPORAL_API_KEY: 'k1' })).toEqual({ tls: {}, apiKey: 'k1' });
    expect(temporalAuthFromEnv({ TEMPORAL_API_KEY: 'k1', TEMPORAL_TLS: 'false' })).toEqual({ tls: undefined, apiKey: 'k1' });
    expect(temporalAuthFromEnv({ TEMPORAL_API_KEY: ' k1\n' }).apiKey).toBe('k1');
    expect(usageError({ TEMPORAL_TLS: 'maybe' })).toMatch(/TEMPORAL_TLS must be "true" or "false", got "maybe"/);
    expect(usageError({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: c.caCert })).toMatch(/TEMPORAL_TLS=false .* TEMPORAL_TLS_CA is set/);
  });

  it('an API key that cannot be a header value is refused without being printed', () => {
    const message = usageError({ TEMPORAL_API_KEY: 'abc def-secret' });
    expect(message).toMatch(/TEMPORAL_API_KEY/);
    expect(message).not.toContain('def-secret');
  });

  it('reads the CA, the client pair and the server name; the issue names win over the aliases', () => {
    const auth = temporalAuthFromEnv({
      TEMPORAL_TLS_CA: c.caCert,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: c.otherCaCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: c.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: c.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    expect(auth.tls).toEqual({
      serverRootCACertificate: readFileSync(c.caCert),
      clientCertPair: { crt: readFileSync(c.clientCert), key: readFileSync(c.clientKey) },
      serverNameOverride: 'localhost',
    });
    expect(temporalAuthFromEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: c.otherCaCert }).tls?.serverRootCACertificate).toEqual(readFileSync(c.otherCaCert));
    expect(loadConfig({ TEMPORAL_TLS_CA: c.caCert, TEMPORAL_API_KEY: 'k2' })).toMatchObject({
      temporalTls: { serverRootCACertificate: readFileSync(c.caCert) },
      temporalApiKey: 'k2',
    });
  });

  it('a certificate without its key, or a key without its certificate, is a usage error naming what is missing', () => {
    expect(usageError({ TEMPORAL_TLS_CERT: c.clientCert })).toMatch(/TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not/);
    expect(usageError({ TEMPORAL_TLS_CLIENT_KEY_PATH: c.clientKey })).toMatch(/TEMPORAL_TLS_CLIENT_KEY_PATH is set but TEMPORAL_TLS_CERT is not/);
  });

  it('a file that is missing, a directory, or not PEM is a usage error naming the variable and the path', () => {
    const missing = join(c.dir, 'nope.pem');
    expect(usageError({ TEMPORAL_TLS_CA: missing })).toBe(
      `TEMPORAL_TLS_CA=${missing}: the file does not exist; set TEMPORAL_TLS_CA to the PEM file of the CA certificate(s) that signed the Temporal server's certificate`,
    );
    expect(usageError({ TEMPORAL_TLS_CA: dir })).toMatch(/TEMPORAL_TLS_CA=.*a-directory: the file is a directory/);
    expect(usageError({ TEMPORAL_TLS_CA: garbage })).toMatch(/TEMPORAL_TLS_CA=.*garbage\.pem: not a PEM certificate/);
    expect(usageError({ TEMPORAL_TLS_CERT: garbage, TEMPORAL_TLS_KEY: c.clientKey })).toMatch(/TEMPORAL_TLS_CERT=.*garbage\.pem: not a PEM certificate/);
    expect(usageError({ TEMPORAL_TLS_CERT: c.clientCert, TEMPORAL_TLS_KEY: garbage })).toMatch(/TEMPORAL_TLS_KEY=.*garbage\.pem: not a PEM private key/);
    expect(usageError({ TEMPORAL_TLS_CERT: c.clientCert, TEMPORAL_TLS_KEY: fakePemKey })).toMatch(/TEMPORAL_TLS_KEY=.*fake\.key: not a valid PEM private key/);
    expect(usageError({ TEMPORAL_TLS_CERT: c.clientCert, TEMPORAL_TLS_KEY: encryptedKey })).toMatch(/the private key is encrypted/);
  });

  it('a key that does not belong to the certificate is a usage error', () => {
    expect(usageError({ TEMPORAL_TLS_CERT: c.clientCert, TEMPORAL_TLS_KEY: c.rogueClientKey })).toMatch(
      /TEMPORAL_TLS_KEY=.*rogue-client\.key is not the private key of the certificate in TEMPORAL_TLS_CERT=.*client\.crt \(subject CN=infty test client\)/,
    );
  });
});

describe('temporalConnectFailure', () => {
  const tls = { serverRootCACertificate: Buffer.from('ca') };
  const explain = async (cause: unknown, settings: { temporalTls?: object; temporalApiKey?: string } = { temporalTls: tls }) => {
    const err = await temporalConnectFailure(
      { temporalAddress: 'temporal.example:7233', temporalTls: undefined, temporalApiKey: undefined, ...settings },
      cause,
      'cannot reach Temporal',
    );
    expect(err).toBeInstanceOf(UnreachableError);
    return err.message;
  };

  it('names the variable to check for each TLS problem, in rustls and in OpenSSL words', async () => {
    const rustls = (inner: string) => new Error(`tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: ${inner} }))`);
    expect(await explain(rustls('InvalidCertificate(UnknownIssuer)'))).toBe(
      "TLS connection to Temporal at temporal.example:7233 failed (invalid certificate: UnknownIssuer): the server's certificate is not signed by a CA this client trusts; set TEMPORAL_TLS_CA to the PEM file of the CA that signed it",
    );
    expect(
      await explain(new Error('14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate. Resolution note: ')),
    ).toMatch(/\(unable to verify the first certificate\): .*TEMPORAL_TLS_CA/);
    expect(await explain(rustls('InvalidCertificate(NotValidForNameContext { expected: DnsName("x") })'))).toMatch(/TEMPORAL_TLS_SERVER_NAME/);
    expect(await explain(new Error('Failed to call GetSystemInfo: received fatal alert: CertificateRequired'))).toMatch(
      /requires a client certificate \(mTLS\); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/,
    );
    expect(await explain(new Error('received fatal alert: BadCertificate'))).toMatch(
      /refused the client certificate; check TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/,
    );
    expect(await explain(new Error('Error: 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl3_record.c:350:'))).toMatch(
      /failed \(wrong version number\): the server does not speak TLS on this port; set TEMPORAL_TLS=false/,
    );
  });

  it('credentials the server refuses are named, and the API key never appears', async () => {
    const grpc = Object.assign(new Error('16 UNAUTHENTICATED: key k-123 is not valid'), { code: 16, details: 'key k-123 is not valid' });
    const message = await explain(Object.assign(new Error('Failed to connect to Temporal server'), { cause: grpc }), {
      temporalTls: {},
      temporalApiKey: 'k-123',
    });
    expect(message).toBe(
      "Temporal at temporal.example:7233 refused this client's credentials (key *** is not valid); check TEMPORAL_API_KEY (a key valid for this namespace), or the client certificate in TEMPORAL_TLS_CERT",
    );
    expect(
      await explain(new Error(`Failed to call GetSystemInfo: code: 'The request does not have valid authentication credentials', message: "no key"`), {}),
    ).toMatch(/refused this client's credentials \(no key\); set TEMPORAL_API_KEY/);
  });

  it("anything else keeps the caller's message", async () => {
    expect(await explain(new Error('Connection refused'), {})).toBe('cannot reach Temporal');
  });
});
