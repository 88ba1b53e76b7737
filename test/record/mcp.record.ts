/**
 * Records the replay fixture of a run with MCP servers (`mcp-tools` patch, docs/architecture.md
 * decision 17): its tools listed at the start (one server answers, one does not start), a Solver
 * call of an MCP tool, a Verifier, delivered (`mcp-tools-delivered.json`). See
 * histories.record.ts: never re-record an old fixture.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { MCP_TEST_SERVER } from '../support/mcp';
import { addFile, deliver, tools, verdict } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the mcp-tools fixture', () => {
  const rec = useRecorder();

  it('MCP tools listed, one called, delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infty-rec-mcp-'));
    let step = 0;
    rec.responder = async (req) => {
      if (req.role?.startsWith('verifier')) return verdict('pass');
      step += 1;
      if (step === 1) return tools({ name: 'mcp__svc__peek', arguments: { key: 'k' } }, { name: 'mcp__svc__count', arguments: { note: 'n' } });
      if (step === 2) return tools(addFile('deliverable/a.txt', ['a']));
      return deliver('deliverable/a.txt');
    };
    const runId = uniqueId('rec');
    await rec.h.infty.startRun({
      runId,
      objective: 'MCP tools scenario',
      verifiers: ['verifier-alpha'],
      sandbox: 'none',
      mcpServers: [
        { name: 'svc', command: [process.execPath, MCP_TEST_SERVER, 'ok', dir] },
        { name: 'dead', command: [process.execPath, MCP_TEST_SERVER, 'fail-start', dir] },
      ],
    });
    await rec.h.infty.result(runId);
    await rec.save('mcp-tools-delivered', runId);
  });
});
