/**
 * Throwaway certificates for the TLS tests, made with the `openssl` command line: a CA, a server
 * certificate it signs (SAN DNS:localhost and IP:127.0.0.1), a client certificate it signs, and an
 * unrelated CA with a client certificate of its own (which an mTLS server must refuse).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  /** Signed by the other CA: an mTLS server trusting only `caCert` refuses it. */
  rogueClientCert: string;
  rogueClientKey: string;
  remove(): void;
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key in PKCS#8 PEM. */
function newKey(dir: string, name: string): string {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
  return join(dir, name);
}

function newCa(dir: string, name: string, subject: string): { cert: string; key: string } {
  const key = newKey(dir, `${name}.key`);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    subject,
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert: join(dir, `${name}.crt`), key };
}

function newLeaf(dir: string, name: string, subject: string, ca: { cert: string; key: string }, extensions: string[]): { cert: string; key: string } {
  const key = newKey(dir, `${name}.key`);
  openssl(dir, ['req', '-new', '-key', key, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: join(dir, `${name}.crt`), key };
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'infty-certs-'));
  const leaf = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature'];
  const ca = newCa(dir, 'ca', '/CN=infty test CA');
  const server = newLeaf(dir, 'server', '/CN=localhost', ca, [...leaf, 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  const client = newLeaf(dir, 'client', '/CN=infty test client', ca, [...leaf, 'extendedKeyUsage=clientAuth']);
  const otherCa = newCa(dir, 'other-ca', '/CN=unrelated CA');
  const rogue = newLeaf(dir, 'rogue-client', '/CN=rogue client', otherCa, [...leaf, 'extendedKeyUsage=clientAuth']);
  return {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCaCert: otherCa.cert,
    rogueClientCert: rogue.cert,
    rogueClientKey: rogue.key,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
