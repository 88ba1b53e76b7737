/**
 * One owner per piece of run state (issue 21): each field below is assigned in its owner module
 * and nowhere else in src/workflows. A new writer elsewhere fails here; route it through the owner.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const WORKFLOWS = resolve(__dirname, '..', '..', 'src', 'workflows');

/** field → the one module that assigns it (`x.field =`, `??=`, `+=`, …; comparisons do not count). */
const OWNERS: Record<string, string> = {
  committedLength: 'roleLedger.ts',
  generation: 'roleLedger.ts',
  compactionDue: 'roleLedger.ts',
  goal: 'context.ts',
  watchdog: 'convergence.ts',
  approvals: 'approvals.ts',
  plan: 'workflowTools.ts',
  budgetNoticeSent: 'grace.ts',
  graceTurnsUsed: 'grace.ts',
  graceModelCalls: 'grace.ts',
};

function assignments(field: string): string[] {
  const assign = new RegExp(`\\.${field}\\s*(\\?\\?|\\+|-|\\|\\||&&)?=(?!=)`);
  const found: string[] = [];
  for (const file of readdirSync(WORKFLOWS).filter((f) => f.endsWith('.ts'))) {
    readFileSync(join(WORKFLOWS, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (assign.test(line) && !line.trim().startsWith('*') && !line.trim().startsWith('//')) found.push(`${file}:${i + 1}`);
      });
  }
  return found;
}

describe('run state has one writer per field', () => {
  it.each(Object.entries(OWNERS))('%s is assigned only in %s', (field, owner) => {
    const writers = assignments(field);
    expect(writers.length, `${field} has no writer at all: is the check still looking at the right thing?`).toBeGreaterThan(0);
    expect(writers.filter((w) => !w.startsWith(`${owner}:`))).toEqual([]);
  });
});
