import { describe, expect, it } from 'vitest';
import { defaultRunId, runIdError } from '../../src/protocol/runId';
import { DEFAULT_VERIFIERS, RunInputSchema } from '../../src/protocol/runInput';

describe('runIdError', () => {
  it.each([['run-20250101-000000'], ['a'], ['A_b-c.d'], ['x.y.z'], ['123'], ['under_score'], ['a'.repeat(200)]])('accepts %j', (id) => {
    expect(runIdError(id)).toBeUndefined();
  });

  it('refuses an empty id', () => {
    expect(runIdError('')).toMatch(/empty/);
  });

  it.each([['has space'], ['slash/inside'], ['back\\slash'], ['ünïcode'], ['colon:x'], ['tab\t'], ['new\nline'], ['..']])(
    'refuses characters outside [A-Za-z0-9_.-]: %j',
    (id) => {
      expect(runIdError(id)).toBeTypeOf('string');
    },
  );

  it.each([['.hidden'], ['trailing.'], ['.']])('refuses a leading or trailing dot: %j', (id) => {
    expect(runIdError(id)).toMatch(/start or end with '\.'/);
  });

  it('refuses an overly long id', () => {
    expect(runIdError('a'.repeat(201))).toMatch(/at most/);
  });
});

describe('defaultRunId', () => {
  it('formats run-YYYYMMDD-HHMMSS with zero padding', () => {
    expect(defaultRunId(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('run-20240102-030405');
    expect(defaultRunId(new Date(Date.UTC(2025, 11, 31, 23, 59, 59, 999)))).toBe('run-20251231-235959');
  });

  it('uses UTC, not local time', () => {
    // The same instant written with an offset: 2024-03-01T00:30:00+05:00 is 2024-02-29T19:30:00Z.
    expect(defaultRunId(new Date('2024-03-01T00:30:00+05:00'))).toBe('run-20240229-193000');
    expect(defaultRunId(new Date('2024-06-30T22:00:00-04:00'))).toBe('run-20240701-020000');
  });

  it('is always a valid run id', () => {
    expect(runIdError(defaultRunId(new Date()))).toBeUndefined();
    expect(defaultRunId(new Date())).toMatch(/^run-\d{8}-\d{6}$/);
  });
});

describe('RunInputSchema', () => {
  const minimal = { runId: 'r1', objective: '  write a poem  ' };

  it('fills the defaults from a minimal input', () => {
    const input = RunInputSchema.parse(minimal);
    expect(input.runId).toBe('r1');
    expect(input.objective).toBe('write a poem');
    expect(input.verifiers).toEqual(['verifier-alpha', 'verifier-beta', 'verifier-gamma']);
    expect(DEFAULT_VERIFIERS).toEqual(['verifier-alpha', 'verifier-beta', 'verifier-gamma']);
    expect(input.directorTimeoutSecs).toBe(1200);
    expect(input.verifierTimeoutSecs).toBe(1800);
    expect(input.sandbox).toBe('auto');
    expect(input.tokenBudget).toBeNull();
    expect(input.allowNetwork).toBe(false);
    expect(input.budgetGraceTurns).toBe(3);
    expect(input.maxConsecutiveErrors).toBe(3);
    expect(input.instructions).toEqual({});
  });

  it('does not share the default verifier array between parses', () => {
    const a = RunInputSchema.parse(minimal);
    a.verifiers.push('verifier-delta');
    expect(RunInputSchema.parse(minimal).verifiers).toEqual(['verifier-alpha', 'verifier-beta', 'verifier-gamma']);
    a.verifiers.pop();
  });

  it('accepts explicit values', () => {
    const input = RunInputSchema.parse({
      ...minimal,
      verifiers: ['verifier-x', 'verifier_2'],
      tokenBudget: 50_000,
      directorTimeoutSecs: 5,
      verifierTimeoutSecs: 7,
      sandbox: 'none',
    });
    expect(input.verifiers).toEqual(['verifier-x', 'verifier_2']);
    expect(input.tokenBudget).toBe(50_000);
    expect(input.directorTimeoutSecs).toBe(5);
    expect(input.verifierTimeoutSecs).toBe(7);
    expect(input.sandbox).toBe('none');
  });

  it('accepts zero verifiers', () => {
    expect(RunInputSchema.parse({ ...minimal, verifiers: [] }).verifiers).toEqual([]);
  });

  it('rejects unknown keys', () => {
    const r = RunInputSchema.safeParse({ ...minimal, run_id: 'x' });
    expect(r.success).toBe(false);
    if (!r.success) expect(JSON.stringify(r.error.issues)).toContain('run_id');
  });

  it.each([[['alpha']], [['solver']], [['director']], [['verifier-alpha', 'critic']], [['Verifier-A']]])(
    'rejects verifier lists with non-verifier names: %j',
    (verifiers) => {
      expect(RunInputSchema.safeParse({ ...minimal, verifiers }).success).toBe(false);
    },
  );

  it('rejects duplicate verifiers', () => {
    const r = RunInputSchema.safeParse({ ...minimal, verifiers: ['verifier-a', 'verifier-b', 'verifier-a'] });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.message).join(' ')).toMatch(/unique/);
  });

  it('rejects a bad run id, a blank or too long objective, and a bad budget', () => {
    expect(RunInputSchema.safeParse({ ...minimal, runId: '.bad' }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, runId: '' }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, objective: '   ' }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, objective: 'x'.repeat(4001) }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, objective: ` ${'x'.repeat(4000)} ` }).success).toBe(true);
    for (const tokenBudget of [0, -1, 1.5, '10']) {
      expect(RunInputSchema.safeParse({ ...minimal, tokenBudget }).success).toBe(false);
    }
  });

  it('rejects a sandbox other than auto or none and non-positive timeouts', () => {
    expect(RunInputSchema.safeParse({ ...minimal, sandbox: 'docker' }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, directorTimeoutSecs: 0 }).success).toBe(false);
    expect(RunInputSchema.safeParse({ ...minimal, verifierTimeoutSecs: -1 }).success).toBe(false);
  });

  it('requires runId and objective', () => {
    expect(RunInputSchema.safeParse({ runId: 'r' }).success).toBe(false);
    expect(RunInputSchema.safeParse({ objective: 'o' }).success).toBe(false);
  });
});
