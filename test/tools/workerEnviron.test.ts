import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { detectSandbox, type SandboxMode } from '../../src/activities/tools/sandbox';
import { startToolWorker } from './support/toolWorker';

// The worker's own /proc/<pid>/environ holds its initial environment; these tests start a
// stand-in worker process that really has the secret there.
const SECRET = `sk-environ-${process.pid}-${Date.now()}`;
const detection = await detectSandbox();

interface ShellResult {
  output: string;
  metadata: { exit_code: number };
}

describe.each<SandboxMode>(['none', 'bwrap'])('a worker whose environment holds a secret (--sandbox %s)', (sandbox) => {
  let runDir: string;
  beforeAll(() => {
    if (sandbox === 'bwrap' && !detection.available) throw new Error(`bubblewrap is required: ${detection.reason}`);
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-environ-')));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('does not show it to `cat /proc/*/environ`', async () => {
    const worker = startToolWorker(
      'shell',
      // Only variables that look like keys: the output of a busy machine's every environ would be truncated.
      { command: ['sh', '-c', 'echo "pids: $(ls /proc | grep -E "^[0-9]+$" | tr "\\n" " ")"; cat /proc/*/environ | tr "\\0" "\\n" | grep -a KEY; echo END'] },
      { runDir, sandbox, allowNetwork: false },
      { PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_API_KEY: SECRET },
    );
    const res = JSON.parse(await worker.result) as ShellResult;
    expect(res.output).toContain('END');
    expect(res.output).not.toContain(SECRET);
    const pids = /pids: ([\d ]*)/.exec(res.output)![1]!.trim().split(' ').map(Number);
    if (sandbox === 'bwrap') {
      // A pid namespace of its own: neither the worker nor anything else outside is there.
      expect(pids).not.toContain(worker.child.pid);
      expect(Math.max(...pids)).toBeLessThan(20);
      expect(res.output).not.toContain('[REDACTED');
    } else {
      // Without a sandbox the worker's environ is readable; the scrubber is what stands.
      expect(pids).toContain(worker.child.pid);
      expect(res.output).toContain('[REDACTED:OPENAI_API_KEY]');
    }
  });
});
