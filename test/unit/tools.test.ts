import { describe, expect, it } from 'vitest';
import { isToolName, TOOL_NAMES, TOOLS, toolDefinitions, toolSpec, toolsFor } from '../../src/protocol/tools';

describe('the tool table', () => {
  it('offers the Solver every tool, in table order', () => {
    expect(toolsFor('solver')).toEqual(TOOL_NAMES);
    expect(TOOL_NAMES).toEqual(['shell', 'apply_patch', 'read_file', 'list_dir', 'update_plan']);
  });

  it('offers the Director and every Verifier the read-only tools (docs/behaviour.md §7)', () => {
    const readOnly = TOOL_NAMES.filter((name) => TOOLS[name].readOnly);
    expect(readOnly).toEqual(['read_file', 'list_dir']);
    for (const role of ['director', 'verifier-alpha', 'verifier-x']) expect(toolsFor(role)).toEqual(readOnly);
  });

  it('only read-only tools are re-run after a crash; tools that change the run directory are journaled and run alone', () => {
    for (const name of TOOL_NAMES) {
      const spec = toolSpec(name)!;
      if (spec.runsIn !== 'activity') continue;
      expect(spec.onRetry, name).toBe(spec.readOnly ? 'rerun' : 'journal');
      if (!spec.readOnly) expect(spec.concurrent, name).toBe(false);
    }
  });

  it('update_plan runs in the workflow', () => {
    expect(TOOLS.update_plan.runsIn).toBe('workflow');
  });

  it('does not take inherited property names for tools', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(isToolName(name)).toBe(false);
      expect(toolSpec(name)).toBeUndefined();
    }
  });

  it('toolDefinitions keeps the order asked for and skips unknown names', () => {
    expect(toolDefinitions(['list_dir', 'nope', 'shell']).map((d) => d.name)).toEqual(['list_dir', 'shell']);
    const [shell] = toolDefinitions(['shell']);
    expect(Object.keys(shell!)).toEqual(['name', 'description', 'parameters']);
  });
});
