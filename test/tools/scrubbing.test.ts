import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { executeTool } from '../../src/activities/tools/index';

const NAME = 'INFTY_TEST_API_KEY';
const SECRET = `sk-scrub-${process.pid}-${Date.now()}-0123456789`;

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  // Nor a piece of it left by a cut.
  expect(text).not.toContain(SECRET.slice(0, 12));
  expect(text).not.toContain(SECRET.slice(-12));
}

/** The text the model sees of a call. */
const run = async (name: string, args: string, ctx: ToolContext): Promise<string> => (await executeTool(name, args, ctx)).output;

describe('executeTool scrubs secret values from every output', () => {
  let runDir: string;
  let ctx: ToolContext;
  beforeAll(() => {
    process.env[NAME] = SECRET;
  });
  afterAll(() => {
    delete process.env[NAME];
  });
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-scrub-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
    writeFileSync(path.join(runDir, 'leak.txt'), `the key is ${SECRET}\n`);
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('shell: a command printing the secret from a file', async () => {
    const out = await run('shell', JSON.stringify({ command: ['cat', 'leak.txt'] }), ctx);
    expectNoSecret(out);
    expect(JSON.parse(out)).toMatchObject({ output: `the key is [REDACTED:${NAME}]\n`, metadata: { exit_code: 0 } });
  });

  it('shell: a secret the run passes through on purpose still does not reach the model', async () => {
    const out = await run('shell', JSON.stringify({ command: ['printenv', NAME] }), { ...ctx, passEnv: [NAME] });
    expect(JSON.parse(out)).toMatchObject({ output: `[REDACTED:${NAME}]\n`, metadata: { exit_code: 0 } });
  });

  it('shell: a secret escaped differently in JSON is still found', async () => {
    const quoted = `q"uo\\te-${SECRET}`;
    process.env.INFTY_TEST_QUOTED_TOKEN = quoted;
    try {
      writeFileSync(path.join(runDir, 'quoted.txt'), quoted);
      const out = await run('shell', JSON.stringify({ command: ['cat', 'quoted.txt'] }), ctx);
      expect(JSON.parse(out)).toMatchObject({ output: '[REDACTED:INFTY_TEST_QUOTED_TOKEN]' });
    } finally {
      delete process.env.INFTY_TEST_QUOTED_TOKEN;
    }
  });

  it('shell: a secret right where the output is cut is redacted whole, not halved', async () => {
    // About 5090 bytes of head and of tail are kept: put the secret across both cuts.
    const filler = 'x'.repeat(5075);
    writeFileSync(path.join(runDir, 'big.txt'), `${filler}${SECRET}${'y'.repeat(100_000)}${SECRET}${filler}`);
    const out = await run('shell', JSON.stringify({ command: ['cat', 'big.txt'] }), ctx);
    expectNoSecret(out);
    expect(JSON.parse(out).output).toMatch(/bytes truncated/);
  });

  it('shell: a secret in output far beyond what is kept in memory', async () => {
    const out = await run('shell', JSON.stringify({ command: ['sh', '-c', `head -c 3000000 /dev/zero | tr '\\0' 'z'; echo; cat leak.txt`] }), ctx);
    expectNoSecret(out);
    expect(JSON.parse(out).output).toMatch(/the key is \[REDACTED:INFTY_TEST_API_KEY\]\n$/);
  });

  it('read_file, list_dir and error texts', async () => {
    expect(await run('read_file', '{"path":"leak.txt"}', ctx)).toBe(`L1: the key is [REDACTED:${NAME}]`);
    writeFileSync(path.join(runDir, `file-${SECRET}`), '');
    const listing = await run('list_dir', '{"path":"."}', ctx);
    expectNoSecret(listing);
    expect(listing).toContain(`file-[REDACTED:${NAME}]`);
    const notFound = await run('read_file', JSON.stringify({ path: SECRET }), ctx);
    expect(notFound).toBe(`Error: file not found: [REDACTED:${NAME}]`);
    const badPatch = await run('apply_patch', JSON.stringify({ input: `*** Begin Patch\n${SECRET}\n*** End Patch` }), ctx);
    expectNoSecret(badPatch);
    expect(badPatch).toContain(`[REDACTED:${NAME}]`);
    expectNoSecret(await run(SECRET, '{}', ctx));
  });

  it('an internal failure thrown to the caller', async () => {
    const failing = executeTool('shell', '{"command":["true"]}', { ...ctx, runDir: path.join(runDir, SECRET) });
    await expect(failing).rejects.toThrow(`[REDACTED:${NAME}]`);
    const err = (await failing.catch((e: Error) => e)) as Error;
    expectNoSecret(err.message);
    expectNoSecret(err.stack ?? '');
  });
});
