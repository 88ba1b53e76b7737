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
      /**
       * The content hash every Verifier passed, which the deliverable still had when the run ended
       * (docs/behaviour.md §3.3, §4.2): a file's sha256, a directory's manifest hash. Absent in older runs.
       */
      verifiedHash?: string;
    }
  | {
      runId: string;
      status: Exclude<TerminalStatus, 'delivered'>;
      reason: string;
      /** Set when the run never started because its input was refused (`InvalidProjectSource`). */
      errorType?: string;
    };
