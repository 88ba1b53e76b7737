import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { toolEnv } from '../../src/activities/tools/env';
import type { ToolResult } from '../../src/activities/tools/output';
import { detectSandbox, type SandboxMode } from '../../src/activities/tools/sandbox';
import { shellTool } from '../../src/activities/tools/shell';

// Neither name looks secret, so only the allow-list (not the scrubber) can keep them out.
const PLAIN = 'INFTY_TEST_WORKER_SETTING';
const PLAIN_VALUE = `plain-${process.pid}-${Date.now()}-value`;
const KEY = 'OPENAI_API_KEY';
const KEY_VALUE = `sk-test-${process.pid}-${Date.now()}-key`;

/** The shell's output before scrubbing: what the command itself could see. */
async function rawOutput(command: string[], ctx: ToolContext): Promise<string> {
  const res: ToolResult = await shellTool({ command, timeout_ms: 20_000 }, ctx);
  if (res.type !== 'shell') throw new Error(JSON.stringify(res));
  expect(typeof res.output, 'small output is a plain string').toBe('string');
  return res.output as string;
}

describe('toolEnv', () => {
  it('keeps only the allow-list and the passEnv names that are set', () => {
    const source = { PATH: '/bin', HOME: '/h', LANG: 'C', TERM: 'xterm', OPENAI_API_KEY: 'sk-1234567890', FOO: 'x', BAR: 'y' };
    expect(toolEnv('none', [], source)).toEqual({ PATH: '/bin', HOME: '/h', LANG: 'C', TERM: 'xterm' });
    expect(toolEnv('none', ['FOO', 'MISSING', 'bad name', '1X'], source)).toEqual({ PATH: '/bin', HOME: '/h', LANG: 'C', TERM: 'xterm', FOO: 'x' });
    expect(toolEnv('bwrap', [], { ...source, TMPDIR: '/var/tmp' }).TMPDIR).toBe('/tmp');
    expect(toolEnv('none', [], { ...source, TMPDIR: '/var/tmp' }).TMPDIR).toBe('/var/tmp');
  });
});

const detection = await detectSandbox();

describe.each<SandboxMode>(['none', 'bwrap'])('the environment of a command (--sandbox %s)', (sandbox) => {
  let runDir: string;
  let ctx: ToolContext;
  const saved = { [PLAIN]: process.env[PLAIN], [KEY]: process.env[KEY] };
  beforeAll(() => {
    if (sandbox === 'bwrap' && !detection.available) throw new Error(`bubblewrap is required: ${detection.reason}`);
    process.env[PLAIN] = PLAIN_VALUE;
    process.env[KEY] = KEY_VALUE;
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-env-')));
    ctx = { runDir, sandbox, allowNetwork: false };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it.each([[['env']], [['printenv']], [['cat', '/proc/self/environ']], [['sh', '-c', 'cat /proc/$$/environ /proc/self/environ']]])(
    '%j shows only allow-listed variables',
    async (command) => {
      const out = await rawOutput(command, ctx);
      expect(out).not.toContain(PLAIN_VALUE);
      expect(out).not.toContain(KEY_VALUE);
      expect(out).not.toContain(PLAIN);
      expect(out).toContain(`PATH=${process.env.PATH}`);
    },
  );

  it('no process the command can see has the worker variables in its environment', async () => {
    const out = await rawOutput(['sh', '-c', 'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f"; done 2>/dev/null; echo END'], ctx);
    expect(out).toContain('END');
    expect(out).not.toContain(PLAIN_VALUE);
    expect(out).not.toContain(KEY_VALUE);
  });

  it('passes the names in passEnv through', async () => {
    const out = await rawOutput(['printenv', PLAIN], { ...ctx, passEnv: [PLAIN] });
    expect(out).toBe(`${PLAIN_VALUE}\n`);
  });

  it(`sets TMPDIR ${sandbox === 'bwrap' ? 'to the private /tmp' : 'only as the worker has it'}`, async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${TMPDIR-unset} is shell parameter expansion in the command
    const out = await rawOutput(['sh', '-c', 'echo "tmpdir=${TMPDIR-unset}"'], ctx);
    expect(out).toBe(`tmpdir=${sandbox === 'bwrap' ? '/tmp' : (process.env.TMPDIR ?? 'unset')}\n`);
  });
});
