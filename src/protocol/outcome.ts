import type { VerificationFeedback } from './verdict';

export type TerminalStatus = 'delivered' | 'budget_exhausted' | 'failed' | 'cancelled';

export type RunOutcome =
  | {
      runId: string;
      status: 'delivered';
      deliverablePath: string;
      summary: string | null;
      rawMessage: string;
      verification: VerificationFeedback;
    }
  | { runId: string; status: Exclude<TerminalStatus, 'delivered'>; reason: string };
