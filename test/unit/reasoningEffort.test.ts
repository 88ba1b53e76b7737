import { readFileSync } from 'node:fs';
import type { ReasoningEffort as OpenAIReasoningEffort } from 'openai/resources/shared';
import { describe, expect, it } from 'vitest';
import type { ReasoningEffortName } from '../../src/activities/wire/types';
import { runInputFromFlags } from '../../src/cli/flags';
import { formatZodError } from '../../src/protocol/json';
import { REASONING_EFFORTS, type ReasoningEffort } from '../../src/protocol/reasoning';
import { RunInputSchema, reasoningEffortFor } from '../../src/protocol/runInput';

// Compile-time: the protocol's values, the wire's and the openai package's are the same set
// (`npx tsc -p tsconfig.test.json` fails otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAsOpenAI: Same<ReasoningEffort, Exclude<OpenAIReasoningEffort, null>> = true;
const sameAsWire: Same<ReasoningEffort, ReasoningEffortName> = true;

describe('reasoning effort values', () => {
  it("are the openai package's ReasoningEffort values", () => {
    expect(sameAsOpenAI && sameAsWire).toBe(true);
    // At run time too: read the union from the installed package's declaration.
    const dts = readFileSync(require.resolve('openai/resources/shared').replace(/\.js$/, '.d.ts'), 'utf8');
    const union = /export type ReasoningEffort = ([^;]+);/.exec(dts)![1]!;
    const values = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect([...REASONING_EFFORTS].sort()).toEqual(values.sort());
  });

  it('workflow input: per role, falling back to reasoningEffort; unknown values are refused with the valid ones', () => {
    const input = RunInputSchema.parse({ runId: 'r', objective: 'x', reasoningEffort: 'low', verifierReasoningEffort: 'high' });
    expect(reasoningEffortFor(input, 'solver')).toBe('low');
    expect(reasoningEffortFor(input, 'director')).toBe('low');
    expect(reasoningEffortFor(input, 'verifier-alpha')).toBe('high');
    expect(reasoningEffortFor(RunInputSchema.parse({ runId: 'r', objective: 'x' }), 'solver')).toBeUndefined();
    const bad = RunInputSchema.safeParse({ runId: 'r', objective: 'x', directorReasoningEffort: 'turbo' });
    expect(bad.success).toBe(false);
    expect(formatZodError(bad.error!)).toContain('directorReasoningEffort must be one of none, minimal, low, medium, high, xhigh, max; got "turbo"');
  });

  it('CLI flags map to the input fields; an unknown value is a usage error listing the valid values', () => {
    const input = runInputFromFlags({
      objective: 'x',
      runId: 'r',
      reasoningEffort: 'medium',
      solverReasoningEffort: 'xhigh',
      directorReasoningEffort: 'none',
      verifierReasoningEffort: 'minimal',
    });
    expect(input).toMatchObject({
      reasoningEffort: 'medium',
      solverReasoningEffort: 'xhigh',
      directorReasoningEffort: 'none',
      verifierReasoningEffort: 'minimal',
    });
    expect(() => runInputFromFlags({ objective: 'x', runId: 'r', solverReasoningEffort: 'HIGH' })).toThrow(
      '--solver-reasoning-effort must be one of none, minimal, low, medium, high, xhigh, max; got "HIGH"',
    );
  });
});
