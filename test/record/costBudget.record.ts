/**
 * Records the replay fixture of a run with a cost budget (`cost-budget` patch, docs/behaviour.md
 * §5.3): priced model calls reach the dollar budget, the budget-limit message goes out once, and the
 * bounded grace ends the run `budget_exhausted` (`cost-budget-exhausted.json`). See
 * histories.record.ts: never re-record an old fixture.
 */
import { describe, it } from 'vitest';
import { uniqueId } from '../support/harness';
import { say, shell, tools, withUsage } from '../support/replies';
import { useRecorder } from './recorder';

describe('record the cost-budget fixture', () => {
  const rec = useRecorder();

  it('cost budget reached, limit message, grace turns spent, budget_exhausted', async () => {
    const usage = { inputTokens: 1000, cachedInputTokens: 100, outputTokens: 100 };
    let step = 0;
    rec.responder = () => {
      step += 1;
      return withUsage(step % 2 === 1 ? tools(shell(`echo ${step}`)) : say('working'), usage);
    };
    // gpt-5.1 is in the price table: about $0.0021 a call here, so $0.005 is reached with the third call.
    const { runId } = await rec.h.run({ objective: 'Cost budget scenario', verifiers: [], model: 'gpt-5.1', costBudgetUsd: 0.005, runId: uniqueId('rec') });
    await rec.save('cost-budget-exhausted', runId);
  });
});
