import { describe, expect, it } from 'vitest';
import { runInputFromFlags } from '../../src/cli/flags';
import { UsageError } from '../../src/errors';
import { RunInputSchema } from '../../src/protocol/runInput';

describe('create flags → workflow input', () => {
  it('--pass-env names pass through; the input validates', () => {
    const input = runInputFromFlags({ objective: 'x', runId: 'r1', passEnv: ['GITHUB_TOKEN', 'NPM_CONFIG_REGISTRY'] });
    expect(input.passEnv).toEqual(['GITHUB_TOKEN', 'NPM_CONFIG_REGISTRY']);
    expect(RunInputSchema.parse(input).passEnv).toEqual(['GITHUB_TOKEN', 'NPM_CONFIG_REGISTRY']);
  });

  it('refuses a --pass-env that is not a variable name, saying which', () => {
    expect(() => runInputFromFlags({ objective: 'x', runId: 'r1', passEnv: ['OK', 'A=B'] })).toThrow(UsageError);
    expect(() => runInputFromFlags({ objective: 'x', runId: 'r1', passEnv: ['1X'] })).toThrow(/"1X"/);
  });

  it('the workflow input refuses the same bad names when started from another client', () => {
    expect(RunInputSchema.safeParse({ runId: 'r1', objective: 'x', passEnv: ['$(id)'] }).success).toBe(false);
    expect(RunInputSchema.safeParse({ runId: 'r1', objective: 'x', budgetGraceModelCalls: -1 }).success).toBe(false);
  });
});
