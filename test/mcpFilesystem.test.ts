/**
 * The real `@modelcontextprotocol/server-filesystem` (stdio, from node_modules) as a run's MCP
 * server (docs/behaviour.md §7.6), its allowed root the run directory: the Solver lists it and
 * reads a file it wrote there, and gets the server's real answers; the Verifiers are offered only
 * the tools it annotates `readOnlyHint`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from './support/fakeModel';
import { uniqueId, useHarness } from './support/harness';
import { offered, solverOutputs } from './support/mcp';
import { scriptByRole } from './support/modelScript';
import { addFile, deliver, tools, verdict } from './support/replies';

const FILESYSTEM = join(__dirname, '..', 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');

describe('MCP: the real filesystem server', () => {
  const t = useHarness();

  it('the Solver lists the run directory and reads a file in it; Verifiers get only the read-only tools', { timeout: 120_000 }, async () => {
    const runId = uniqueId('mcp-fs');
    const runDir = join(t.h.runsRoot, runId);
    t.responder = scriptByRole({
      solver: [
        tools(addFile('notes/hello.txt', ['written by the Solver', 'second line'])),
        tools(
          { name: 'mcp__fs__list_directory', arguments: { path: join(runDir, 'notes') } },
          { name: 'mcp__fs__read_text_file', arguments: { path: join(runDir, 'notes', 'hello.txt') } },
        ),
        // Outside its allowed root: the server's own refusal, as a tool error.
        tools({ name: 'mcp__fs__read_text_file', arguments: { path: '/etc/hostname' } }),
        tools(addFile('deliverable/a.txt', ['a'])),
        deliver('deliverable/a.txt'),
      ],
      'verifier*': [verdict('pass')],
    });
    const { outcome } = await t.h.run({
      runId,
      objective: 'read a file with the filesystem server',
      verifiers: ['verifier-a'],
      mcpServers: [{ name: 'fs', command: [process.execPath, FILESYSTEM, runDir] }],
    });
    expect(outcome.status).toBe('delivered');

    const out = solverOutputs(t.h.model.requests, runId).filter((o) => o.name.startsWith('mcp__fs__'));
    expect(out.map((o) => o.name)).toEqual(['mcp__fs__list_directory', 'mcp__fs__read_text_file', 'mcp__fs__read_text_file']);
    expect(out[0]!.output).toBe('[FILE] hello.txt');
    expect(out[1]!.output).toBe('written by the Solver\nsecond line\n');
    expect(out[2]!.output).toMatch(/^Error: the MCP tool read_text_file of server fs answered an error: .*outside allowed directories/s);

    const frozen = JSON.parse(readFileSync(join(t.h.home, 'mcp', runId, 'tools.json'), 'utf8')) as { tools: { name: string; readOnly: boolean }[] };
    const all = frozen.tools.map((t) => t.name);
    const readOnly = frozen.tools.filter((t) => t.readOnly).map((t) => t.name);
    expect(all).toEqual(expect.arrayContaining(['mcp__fs__read_text_file', 'mcp__fs__list_directory', 'mcp__fs__write_file', 'mcp__fs__edit_file']));
    expect(readOnly).toEqual(expect.arrayContaining(['mcp__fs__read_text_file', 'mcp__fs__list_directory']));
    expect(readOnly).not.toContain('mcp__fs__write_file');
    expect(readOnly).not.toContain('mcp__fs__edit_file');

    const first = (role: string): RecordedRequest | undefined => t.h.model.requests.find((r) => r.runId === runId && r.role === role);
    expect(offered(first('solver')).map((t) => t.name)).toEqual(['shell', 'apply_patch', 'read_file', 'list_dir', 'update_plan', ...all]);
    expect(offered(first('verifier-a')).map((t) => t.name)).toEqual(['read_file', 'list_dir', ...readOnly]);
  });
});
