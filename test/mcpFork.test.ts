/**
 * A fork takes over its source's MCP servers (docs/behaviour.md §7.6, docs/interface.md §1): the
 * source's `progress` shows them, `infty fork` puts them into the fork's input, and the fork, a new
 * run, lists their tools at its own start and its Solver can call them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli';
import { uniqueId, usePerRunHarness } from './support/harness';
import { MCP_TEST_SERVER, offered, solverOutputs } from './support/mcp';
import { scriptByRole } from './support/modelScript';
import { addFile, askDirection, deliver, directive, tools } from './support/replies';

describe('infty fork with MCP servers', () => {
  const t = usePerRunHarness();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'infty-mcp-fork-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("the fork has the source's servers: its Solver is offered their tools and calls one", { timeout: 180_000 }, async () => {
    const source = uniqueId('mcp-fork-src');
    const servers = [{ name: 'svc', command: [process.execPath, MCP_TEST_SERVER, 'ok', dir], timeoutSecs: 30 }];
    t.scripts.set(
      source,
      scriptByRole({
        solver: [
          tools({ name: 'mcp__svc__peek', arguments: { key: 'in-source' } }),
          askDirection('which file?'),
          tools(addFile('deliverable/a.txt', ['a'])),
          deliver('deliverable/a.txt'),
        ],
        director: [directive('write a.txt')],
      }),
    );
    const src = await t.h.run({ runId: source, objective: 'peek, then deliver', verifiers: [], mcpServers: servers });
    expect(src.outcome.status).toBe('delivered');
    expect((await t.h.infty.progress(source)).mcpServers).toEqual([{ ...servers[0], env: [] }]);
    const startsBefore = readFileSync(join(dir, 'starts.log'), 'utf8').split('\n').filter(Boolean).length;

    const child = uniqueId('mcp-fork-dst');
    t.scripts.set(
      child,
      scriptByRole({
        solver: [tools({ name: 'mcp__svc__peek', arguments: { key: 'in-fork' } }), tools(addFile('deliverable/b.txt', ['b'])), deliver('deliverable/b.txt')],
      }),
    );
    const r = await runCli(['fork', source, '--at-turn', '1', '--run-id', child, '--json'], t.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!).status).toBe('delivered');

    // Listed again at the fork's own start, by a server process of its own.
    expect(existsSync(join(t.h.home, 'mcp', child, 'tools.json'))).toBe(true);
    expect(readFileSync(join(dir, 'starts.log'), 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(startsBefore);
    const first = t.h.model.requests.find((q) => q.runId === child && q.role === 'solver');
    expect(
      offered(first)
        .filter((t) => t.name.startsWith('mcp__'))
        .map((t) => t.name),
    ).toEqual([
      'mcp__svc__peek',
      'mcp__svc__bump',
      'mcp__svc__count',
      'mcp__svc__hang',
      'mcp__svc__crash',
      'mcp__svc__big',
      'mcp__svc__fail',
      'mcp__svc__env',
      'mcp__svc__echo',
    ]);
    const outputs = solverOutputs(t.h.model.requests, child);
    // The source's call is in the fork's inherited conversation; the fork's own call follows it.
    expect(outputs.map((o) => o.output.replace(/ \(server pid \d+\)$/, ''))).toEqual(expect.arrayContaining(['peeked in-source', 'peeked in-fork']));
    expect(outputs.find((o) => o.output.startsWith('peeked in-fork'))?.name).toBe('mcp__svc__peek');
    expect((await t.h.infty.progress(child)).mcpServers).toEqual([{ ...servers[0], env: [] }]);
  });
});
