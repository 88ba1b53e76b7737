import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolContext } from '../../src/activities/tools/context';
import { executeTool } from '../../src/activities/tools/index';
import { TOOL_NAMES, toolDefinitions } from '../../src/protocol/tools';

/** The text the model sees of a call. */
const run = async (name: string, args: string, ctx: ToolContext) => (await executeTool(name, args, ctx)).output;

/** The text of a call the tool refused: its digest must say the tool answered an error. */
async function refused(name: string, args: string, ctx: ToolContext): Promise<string> {
  const { output, digest } = await executeTool(name, args, ctx);
  expect(digest, output).toMatchObject({ failed: true, toolError: 'error_output' });
  return output;
}

const TOOL_DEFINITIONS = Object.fromEntries(toolDefinitions(TOOL_NAMES).map((d) => [d.name, d])) as Record<string, ReturnType<typeof toolDefinitions>[number]>;

describe('executeTool', () => {
  let runDir: string;
  let ctx: ToolContext;
  beforeEach(() => {
    runDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'infty-exec-')));
    ctx = { runDir, sandbox: 'none', allowNetwork: false };
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('dispatches each tool', async () => {
    writeFileSync(path.join(runDir, 'a.txt'), 'hello\n');
    expect(await executeTool('read_file', '{"path":"a.txt"}', ctx)).toEqual({
      output: 'L1: hello',
      digest: { failed: false, fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/) },
    });
    expect(await run('list_dir', '{"path":"."}', ctx)).toBe(`${runDir}\n  a.txt`);
    const shell = JSON.parse(await run('shell', '{"command":["cat","a.txt"]}', ctx)) as { output: string };
    expect(shell.output).toBe('hello\n');
    const patch = JSON.stringify({ input: '*** Begin Patch\n*** Add File: b.txt\n+b\n*** End Patch' });
    expect(await run('apply_patch', patch, ctx)).toBe('Success. Updated the following files:\nA b.txt');
  });

  it('reports bad JSON', async () => {
    const out = await refused('shell', '{"command": [', ctx);
    expect(out).toMatch(/^Error: the arguments for shell are not valid JSON/);
    expect(await refused('read_file', '"a.txt"', ctx)).toMatch(/^Error: the arguments for read_file must be a JSON object/);
  });

  it('reports an unknown tool', async () => {
    expect(await refused('rm_rf', '{}', ctx)).toMatch(/^Error: unknown tool 'rm_rf'. Available tools: shell, apply_patch, read_file, list_dir/);
    expect(await refused('__proto__', '{}', ctx)).toMatch(/^Error: unknown tool/);
  });

  it('does not execute update_plan', async () => {
    expect(await refused('update_plan', '{"plan":[]}', ctx)).toMatch(/^Error: update_plan is handled by the orchestrator/);
  });

  it('renders validation errors readably', async () => {
    expect(await refused('shell', '{}', ctx)).toBe('Error: invalid arguments for shell: command: expected array, received undefined');
    expect(await refused('shell', '', ctx)).toMatch(/invalid arguments for shell: command/);
  });
});

describe('TOOL_DEFINITIONS', () => {
  it('defines every tool with a JSON schema', () => {
    expect(Object.keys(TOOL_DEFINITIONS)).toEqual(TOOL_NAMES);
    for (const name of TOOL_NAMES) {
      const def = TOOL_DEFINITIONS[name];
      expect(def.name).toBe(name);
      expect(def.description.length).toBeGreaterThan(40);
      expect(def.parameters).toMatchObject({ type: 'object' });
      expect(() => JSON.stringify(def)).not.toThrow();
    }
    expect(TOOL_DEFINITIONS.apply_patch.description).toContain('*** Begin Patch');
    expect(TOOL_DEFINITIONS.update_plan.parameters).toMatchObject({ required: ['plan'] });
  });
});
