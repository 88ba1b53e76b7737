/**
 * Ctrl+C (SIGINT), SIGTERM and SIGHUP while a command follows a run (docs/interface.md §1
 * "Signals"). The first one is the user's: the command stops following and shuts down what it
 * started, in order; a second one exits at once (the process's exit handlers stop the embedded
 * server, and commands die with their worker).
 */
import { constants } from 'node:os';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * How long an interrupted command's shutdown may take before the embedded server it started is
 * killed (it needs about 1.2 s to stop on SIGTERM): one deadline for the whole shutdown, so a step
 * slowed by a loaded machine leaves the later ones less time instead of adding to the 2 s promised.
 */
export const INTERRUPTED_SHUTDOWN_MS = 1_600;
/** The least an embedded server gets to stop on SIGTERM, even past that deadline. */
const SERVER_MIN_STOP_MS = 100;

/** The SIGTERM grace an embedded server gets, for a shutdown that must end by `deadline` (ms since the epoch). */
export function serverStopGraceUntil(deadline: number): number {
  return Math.max(SERVER_MIN_STOP_MS, deadline - Date.now());
}

export function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export interface Interrupt {
  /** Resolves with the first signal; never rejects. */
  readonly first: Promise<NodeJS.Signals>;
  readonly received: NodeJS.Signals | undefined;
  dispose(): void;
}

export function catchInterrupts(): Interrupt {
  let received: NodeJS.Signals | undefined;
  let resolveFirst: (s: NodeJS.Signals) => void = () => undefined;
  const first = new Promise<NodeJS.Signals>((r) => (resolveFirst = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal;
      // A closed terminal (SIGHUP) fails later writes; they must not end the orderly shutdown.
      if (signal === 'SIGHUP') ignoreOutputErrors();
      resolveFirst(signal);
      return;
    }
    process.exit(exitCodeOf(received));
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    first,
    get received() {
      return received;
    },
    dispose: () => {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}

function ignoreOutputErrors(): void {
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

/** What the user can do with a run this command stopped following. */
export function afterInterruptHint(runId: string, startedWorker: boolean): string {
  return [
    `stopped following run ${runId}; the run itself keeps its state in Temporal and was not cancelled.`,
    startedWorker
      ? '  it makes progress again once a worker runs:  infty worker   (starts the embedded server too when none runs)'
      : '  it goes on with the worker(s) polling its task queue',
    `  follow it:  infty watch ${runId}      inspect:  infty show ${runId}      cancel:  infty cancel ${runId}`,
    `  if it is paused or held:  infty resume ${runId}`,
  ].join('\n');
}
