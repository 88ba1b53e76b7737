/**
 * TLS, mTLS and API-key connections to Temporal (docs/interface.md §4), against the suite's dev
 * server behind a TLS terminator (test/support/tlsProxy.ts), with the real CLI and worker as child
 * processes and the library client in this process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InftyClient } from '../src/client';
import { UnreachableError } from '../src/errors';
import { makeTestCerts, opensslAvailable, type TestCerts } from './support/certs';
import { type CliResult, runCli } from './support/cli';
import { type FakeModelServer, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';
import { startTlsProxy, type TlsProxy } from './support/tlsProxy';
import { killAllStartedWorkers, pinnedWorkflowBundle, removePinnedWorkflowBundle, WorkerGroup } from './support/workerProcess';

const API_KEY = `infty-test-key-${process.pid}-${Date.now().toString(36)}`;

describe.skipIf(!opensslAvailable())('connections to Temporal over TLS', () => {
  let certs: TestCerts;
  let tlsProxy: TlsProxy;
  let mtlsProxy: TlsProxy;
  let keyProxy: TlsProxy;
  let model: FakeModelServer;
  let home: string;
  const workers = new WorkerGroup();

  /** The CLI's environment for `proxy`, plus TLS variables. */
  const envFor = (proxy: TlsProxy, tls: Record<string, string>) => ({
    TEMPORAL_ADDRESS: proxy.address,
    INFTY_HOME: home,
    INFTY_TASK_QUEUE: uniqueId('tq-tls'),
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'test',
    ...tls,
  });
  const mtlsVars = () => ({ TEMPORAL_TLS_CA: certs.caCert, TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.clientKey });
  const expectListed = (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
  };

  beforeAll(async () => {
    certs = makeTestCerts();
    const upstream = inject('temporalAddress');
    const server = { upstream, serverCert: certs.serverCert, serverKey: certs.serverKey };
    tlsProxy = await startTlsProxy(server);
    mtlsProxy = await startTlsProxy({ ...server, clientCa: certs.caCert });
    keyProxy = await startTlsProxy({ ...server, requireApiKey: API_KEY });
    model = await startFakeModelServer({
      responder: scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['over mTLS'])), deliver('deliverable/a.txt', 'made a')] }),
    });
    home = mkdtempSync(join(tmpdir(), 'infty-tls-'));
  });
  afterAll(async () => {
    await killAllStartedWorkers();
    removePinnedWorkflowBundle();
    await Promise.all([tlsProxy?.close(), mtlsProxy?.close(), keyProxy?.close(), model?.close()]);
    certs?.remove();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('lists runs through TLS with TEMPORAL_TLS_CA (or its alias, with a server name override)', async () => {
    expectListed(await runCli(['list', '--json'], envFor(tlsProxy, { TEMPORAL_TLS_CA: certs.caCert })));
    expectListed(await runCli(['list', '--json'], envFor(tlsProxy, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert, TEMPORAL_TLS_SERVER_NAME: 'localhost' })));
    expect(tlsProxy.forwarded).toBeGreaterThan(0);
  });

  it('runs a worker over mTLS and completes a run created over mTLS', async () => {
    const env = envFor(mtlsProxy, mtlsVars());
    await workers.start({ ...env, INFTY_WORKFLOW_BUNDLE: pinnedWorkflowBundle() });
    const runId = uniqueId('tls-run');
    const r = await runCli(['create', '--objective', 'Make a over mTLS', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ runId, status: 'delivered', summary: 'made a' });
    expect(r.stderr).not.toContain('started a worker in this process');
    const show = await runCli(['show', runId, '--json'], env);
    expect(JSON.parse(show.stdout)).toMatchObject({ runId, status: 'delivered' });
    await workers.killAll();
  }, 180_000);

  it('sends TEMPORAL_API_KEY as a bearer token; without it, or with a wrong one, exit 3 saying the credentials were refused', async () => {
    const ok = await runCli(['list', '--json'], envFor(keyProxy, { TEMPORAL_TLS_CA: certs.caCert, TEMPORAL_API_KEY: API_KEY }));
    expectListed(ok);
    expect(keyProxy.authorizations).toContain(`Bearer ${API_KEY}`);

    const missing = await runCli(['list', '--json'], envFor(keyProxy, { TEMPORAL_TLS_CA: certs.caCert }));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/refused this client's credentials \(missing or invalid API key\); set TEMPORAL_API_KEY/);

    const wrongKey = `${API_KEY}-wrong`;
    for (const args of [
      ['list', '--json'],
      ['create', '--objective', 'x', '--detach', '--sandbox', 'none'],
    ]) {
      const wrong = await runCli(args, envFor(keyProxy, { TEMPORAL_TLS_CA: certs.caCert, TEMPORAL_API_KEY: wrongKey }));
      expect(wrong.code, args[0]).toBe(3);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
      expect(wrong.stderr).toMatch(/refused this client's credentials .*check TEMPORAL_API_KEY/);
      expect(wrong.stdout + wrong.stderr).not.toContain(API_KEY);
    }
    expect(ok.stdout + ok.stderr + missing.stdout + missing.stderr).not.toContain(API_KEY);
  });

  it('a server certificate the CA did not sign: exit 3, a TLS message naming TEMPORAL_TLS_CA; no embedded server on the default address', async () => {
    const untrusted = { TEMPORAL_TLS_CA: certs.otherCaCert };
    for (const args of [['list'], ['create', '--objective', 'x', '--detach', '--sandbox', 'none']]) {
      const r = await runCli(args, envFor(tlsProxy, untrusted));
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(
        /^infty: TLS connection to Temporal at 127\.0\.0\.1:\d+ failed \(.+\): the server's certificate is not signed by a CA this client trusts; set TEMPORAL_TLS_CA/,
      );
    }
    const { TEMPORAL_ADDRESS: _, ...defaultAddress } = envFor(tlsProxy, untrusted);
    const r = await runCli(['create', '--objective', 'x', '--detach', '--sandbox', 'none'], defaultAddress);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('embedded');
  });

  it('a client certificate from another CA on an mTLS server: exit 3 naming TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (client and worker)', async () => {
    const rogue = { TEMPORAL_TLS_CA: certs.caCert, TEMPORAL_TLS_CERT: certs.rogueClientCert, TEMPORAL_TLS_KEY: certs.rogueClientKey };
    for (const args of [['list'], ['worker']]) {
      const r = await runCli(args, envFor(mtlsProxy, rogue));
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/^infty: TLS connection to Temporal at .* check TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
    }
    const noCert = await runCli(['list'], envFor(mtlsProxy, { TEMPORAL_TLS_CA: certs.caCert }));
    expect(noCert.code).toBe(3);
    expect(noCert.stderr).toMatch(/requires a client certificate \(mTLS\); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
  });

  it("a key that is not the certificate's, a missing file, or a file that is not PEM: exit 2, nothing started", async () => {
    const garbage = join(home, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate');
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...mtlsVars(), TEMPORAL_TLS_KEY: certs.rogueClientKey }, /TEMPORAL_TLS_KEY=.* is not the private key of the certificate in TEMPORAL_TLS_CERT=/],
      [{ ...mtlsVars(), TEMPORAL_TLS_CA: join(home, 'missing-ca.pem') }, /TEMPORAL_TLS_CA=.*missing-ca\.pem: the file does not exist; set TEMPORAL_TLS_CA/],
      [{ ...mtlsVars(), TEMPORAL_TLS_CERT: garbage }, /TEMPORAL_TLS_CERT=.*garbage\.pem: not a PEM certificate/],
      [{ ...mtlsVars(), TEMPORAL_TLS_KEY: garbage }, /TEMPORAL_TLS_KEY=.*garbage\.pem: not a PEM private key/],
      [{ TEMPORAL_TLS_CERT: certs.clientCert }, /TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not/],
    ];
    const runIds: string[] = [];
    const forwardedBefore = mtlsProxy.forwarded;
    for (const [vars, message] of cases) {
      const runId = uniqueId('tls-refused');
      runIds.push(runId);
      const r = await runCli(['create', '--objective', 'x', '--run-id', runId, '--detach', '--sandbox', 'none'], envFor(mtlsProxy, vars));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(mtlsProxy.forwarded).toBe(forwardedBefore);
    const infty = await InftyClient.connect({ address: inject('temporalAddress'), namespace: 'default', taskQueue: 'unused' });
    try {
      for (const runId of runIds) expect(await infty.exists(runId)).toBe(false);
    } finally {
      await infty.close();
    }
  });

  it('the library client connects with tls and apiKey', async () => {
    const serverRootCACertificate = readFileSync(certs.caCert);
    const mtls = await InftyClient.connect({
      address: mtlsProxy.address,
      namespace: 'default',
      taskQueue: 'unused',
      tls: { serverRootCACertificate, clientCertPair: { crt: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } },
    });
    try {
      expect(Array.isArray(await mtls.list(5))).toBe(true);
    } finally {
      await mtls.close();
    }
    const keyed = await InftyClient.connect({
      address: keyProxy.address,
      namespace: 'default',
      taskQueue: 'unused',
      tls: { serverRootCACertificate },
      apiKey: API_KEY,
    });
    try {
      expect(Array.isArray(await keyed.list(5))).toBe(true);
    } finally {
      await keyed.close();
    }
    const refused = await InftyClient.connect({ address: keyProxy.address, namespace: 'default', taskQueue: 'unused', tls: { serverRootCACertificate } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(UnreachableError);
    expect((refused as UnreachableError).cause).toMatchObject({ cause: { code: 16, details: 'missing or invalid API key' } });
  });
});
