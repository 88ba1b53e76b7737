/**
 * A scripted run whose Solver's first model request waits at a gate the test opens: lets a test
 * change the run (setGoal, signals) while the run is known to be inside its first step. Verifiers
 * pass; after the gate the Solver answers `after` in order, repeating the last.
 */
import type { Responder, ScriptedReply } from './fakeModel';
import { shell, tools, verdict } from './replies';

export interface GatedSolver {
  responder: Responder;
  /** The first Solver request has arrived and waits at the gate. */
  waiting(): boolean;
  open(): void;
}

export function gatedSolver(after: ScriptedReply[], first: ScriptedReply = tools(shell('echo working'))): GatedSolver {
  let openGate: (() => void) | undefined;
  let step = 0;
  return {
    responder: async (req) => {
      if (req.role?.startsWith('verifier')) return verdict('pass');
      step += 1;
      if (step === 1) {
        await new Promise<void>((r) => (openGate = r));
        return first;
      }
      return after[Math.min(step - 2, after.length - 1)]!;
    },
    waiting: () => openGate !== undefined,
    open: () => openGate?.(),
  };
}
