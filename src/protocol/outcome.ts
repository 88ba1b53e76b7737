import type { DeliverableReport } from './deliverable';
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
      /** What was delivered: size and sha256 (file), or size, file count and manifest (directory). */
      deliverable?: DeliverableReport;
    }
  | { runId: string; status: Exclude<TerminalStatus, 'delivered'>; reason: string };
