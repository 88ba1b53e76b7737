/**
 * Registration waits until it takes effect (issue 22): right after search attributes are
 * registered, a frontend whose namespace cache has not refreshed refuses a start that sets them
 * ("Namespace … has no mapping defined for search attribute InftyGoalStatus"). The suite's dev
 * server reads the mapping through its cache only with system.forceSearchAttributesCacheRefreshOnRead
 * off, as a server on PostgreSQL does; this file runs its own with that setting and a slower cache
 * refresh, so the window is seconds wide, as on SQL visibility, and real.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InftyClient } from '../src/client';
import { SEARCH_ATTRIBUTE_PROBE_QUERY, whileSearchAttributesPending } from '../src/host/searchAttributeWait';
import { type DevServerHandle, freePort, SEARCH_ATTRIBUTES, startDevServer } from '../src/server';
import { requireTemporalCli } from '../src/temporalCli';
import { runCli } from './support/cli';
import { type FakeModelServer, startFakeModelServer } from './support/fakeModel';
import { uniqueId } from './support/harness';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools } from './support/replies';
import { WorkerGroup, workerEnv } from './support/workerProcess';

const ROOT = join(__dirname, '..');
/** A window after registration only misses when the cache refreshes within the few ms before the first probe; then the scenario is repeated. */
const TRIES = 3;

let server: DevServerHandle;
let temporal: string;
let connection: Connection;
let model: FakeModelServer;
const home = mkdtempSync(join(tmpdir(), 'infty-sa-'));
const workers = new WorkerGroup();

beforeAll(async () => {
  temporal = await requireTemporalCli();
  server = await startDevServer({
    port: await freePort(),
    headless: true,
    temporalCli: temporal,
    dynamicConfig: { 'system.forceSearchAttributesCacheRefreshOnRead': false, 'system.namespaceCacheRefreshInterval': '8s' },
  });
  connection = await Connection.connect({ address: server.address });
  model = await startFakeModelServer({
    responder: scriptByRole({ solver: [tools(addFile('deliverable/a.txt', ['a'])), deliver('deliverable/a.txt')] }),
  });
});

afterAll(async () => {
  await workers.killAll();
  await connection?.close();
  await model?.close();
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** A namespace created now, the way an operator does, and already in the frontend's namespace cache. */
async function freshNamespace(): Promise<string> {
  const namespace = uniqueId('fresh');
  const created = await exec(temporal, ['operator', 'namespace', 'create', '--namespace', namespace, '--address', server.address], process.env);
  expect(created.code, created.out).toBe(0);
  await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
  return namespace;
}

/** Whether a start that sets every Infty search attribute is accepted now (the probe workflow is terminated). */
async function startWithAttributesAccepted(namespace: string): Promise<true | string> {
  const client = new Client({ connection, namespace });
  try {
    const handle = await client.workflow.start('inftySearchAttributeCheck', {
      taskQueue: uniqueId('nobody-polls'),
      workflowId: uniqueId('check'),
      searchAttributes: { InftyGoalStatus: ['active'], InftyPhase: ['starting'], InftyTokensUsed: [0] },
    });
    await handle.terminate('test check');
    return true;
  } catch (err) {
    return String((err as { cause?: { details?: string } }).cause?.details ?? err);
  }
}

describe('search attributes registered on a fresh namespace are in effect before anything says ready', () => {
  it('on this server a start is refused for seconds after registration although the attributes are listed (the defect)', async () => {
    let namespace = '';
    let refusal: true | string = true;
    let probe = '';
    for (let i = 0; i < TRIES && refusal === true; i++) {
      namespace = await freshNamespace();
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { InftyGoalStatus: 2, InftyPhase: 2, InftyTokensUsed: 3 } });
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(Object.keys(SEARCH_ATTRIBUTES)));
      refusal = await startWithAttributesAccepted(namespace);
      // The same cache answers the visibility query that registration waits on.
      probe = await connection.workflowService.countWorkflowExecutions({ namespace, query: SEARCH_ATTRIBUTE_PROBE_QUERY }).then(
        () => 'accepted',
        (err: { details?: string }) => err.details ?? String(err),
      );
    }
    // Which attribute it names first varies (the server iterates a map).
    expect(refusal).toMatch(new RegExp(`^Namespace ${namespace} has no mapping defined for search attribute Infty(GoalStatus|Phase|TokensUsed)$`));
    expect(probe).toMatch(/^invalid query: invalid search attribute: Infty(GoalStatus|Phase|TokensUsed)$/);
  });

  it('`infty worker` registers them and waits: once it polls, a start with them is accepted, and `infty create` starts a run it delivers', {
    timeout: 120_000,
  }, async () => {
    let namespace = '';
    let output = '';
    for (let i = 0; i < TRIES && !output.includes('does not apply the search attributes'); i++) {
      namespace = await freshNamespace();
      const worker = workers.spawn(
        workerEnv({ address: server.address, taskQueue: 'infty', home, modelBaseUrl: model.baseUrl }, { TEMPORAL_NAMESPACE: namespace }),
      );
      await worker.ready;
      expect(await startWithAttributesAccepted(namespace)).toBe(true);
      output = worker.output();
      if (!output.includes('does not apply the search attributes')) await worker.stop();
    }
    expect(output).toMatch(/does not apply the search attributes of namespace \S+ yet .*waiting up to 60 s\n.*in effect after \d+\.\d s\n.*worker polling/s);

    const runId = uniqueId('run');
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: namespace,
      INFTY_TASK_QUEUE: 'infty',
      INFTY_HOME: home,
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: 'test',
    };
    const created = await runCli(['create', '--objective', 'Make a', '--run-id', runId, '--no-verifiers', '--sandbox', 'none', '--detach'], env);
    expect(created.code, created.stderr).toBe(0);
    const infty = await InftyClient.connect({ address: server.address, namespace, taskQueue: 'infty' });
    try {
      expect((await infty.result(runId)).status).toBe('delivered');
    } finally {
      await infty.close();
    }
  });

  it('a start refused in that window is retried until it is accepted (as `infty run` / `create` do)', { timeout: 120_000 }, async () => {
    let namespace = '';
    let probeRefused = false;
    for (let i = 0; i < TRIES && !probeRefused; i++) {
      namespace = await freshNamespace();
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { InftyGoalStatus: 2, InftyPhase: 2, InftyTokensUsed: 3 } });
      probeRefused = await connection.workflowService.countWorkflowExecutions({ namespace, query: SEARCH_ATTRIBUTE_PROBE_QUERY }).then(
        () => false,
        () => true,
      );
    }
    expect(probeRefused).toBe(true);
    const infty = await InftyClient.connect({ address: server.address, namespace, taskQueue: uniqueId('nobody-polls') });
    try {
      const runId = uniqueId('run');
      const { handle } = await whileSearchAttributesPending(() => infty.startRun({ runId, objective: 'x', sandbox: 'none' }), { namespace });
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test done');
    } finally {
      await infty.close();
    }
  });

  it('create-namespace.sh (docker-compose.yml) says ready only once a start with them is accepted', { timeout: 180_000 }, async () => {
    const script = join(ROOT, 'deploy', 'temporal', 'scripts', 'create-namespace.sh');
    const env = { PATH: `${dirname(temporal)}:${process.env.PATH}`, TEMPORAL_ADDRESS: server.address };
    let out = '';
    let namespace = '';
    for (let i = 0; i < TRIES && !out.includes('Waiting for Temporal to apply'); i++) {
      namespace = uniqueId('compose');
      const r = await exec('sh', [script], { ...env, TEMPORAL_NAMESPACE: namespace });
      expect(r.code, r.out).toBe(0);
      expect(await startWithAttributesAccepted(namespace)).toBe(true);
      out = r.out;
    }
    expect(out).toContain(`Waiting for Temporal to apply the search attributes of ${namespace} (up to 60 s)...\nNamespace ${namespace} is ready\n`);
  });
});
