/**
 * The product's scripted model server (src/fakeModel, the offline demo's model) answers messages,
 * tool calls and HTTP errors; fault injection is the tests' (test/support/fakeModel.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { demoResponder } from '../src/demo/demoModel';
import { startFakeModelServer } from '../src/fakeModel/server';
import type { FakeModelServer } from '../src/fakeModel/types';
import { startFakeModelServer as startTestServer } from './support/fakeModel';

async function post(server: { baseUrl: string }, role: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-infty-role': role },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: await res.json() };
}

describe('the scripted model server without test doubles', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers an error reply as an OpenAI-style error body', async () => {
    const server: FakeModelServer = await startFakeModelServer({
      responder: () => ({ kind: 'error', status: 503, message: 'down for a moment', code: 'overloaded' }),
    });
    servers.push(server);
    expect(await post(server, 'solver')).toEqual({
      status: 503,
      body: { error: { message: 'down for a moment', type: 'server_error', param: null, code: 'overloaded' } },
    });
    expect(server.requests[0]).toMatchObject({ status: 'fault', fault: 'http' });
  });

  it('cannot inject faults: only the test server answers them', async () => {
    const responder = () => ({ kind: 'fault', fault: { kind: 'http', status: 429 } }) as const;
    const product = await startFakeModelServer<{ kind: 'fault' }>({ responder });
    const test = await startTestServer({ responder });
    servers.push(product, test);
    const fromProduct = await post(product, 'solver');
    expect(fromProduct.status).toBe(500);
    expect(fromProduct.body.error.code).toBe('unknown_reply');
    expect((await post(test, 'solver')).status).toBe(429);
  });

  it('the demo model refuses a role it has no script for (HTTP 400)', async () => {
    const server = await startFakeModelServer({ responder: demoResponder });
    servers.push(server);
    const res = await post(server, 'auditor');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('the demo model has no script for role "auditor"');
  });
});
