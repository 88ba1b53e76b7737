/** The Temporal SDK's logger for CLI processes, minus one warning that is expected here. */
import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * In local storage a worker's second SDK worker polls only activities (its owner queue,
 * docs/architecture.md decision 12); the SDK warns about every such worker at start.
 */
const ACTIVITY_ONLY_WORKER = 'No workflows registered, not polling for workflow tasks';

export class SdkLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === ACTIVITY_ONLY_WORKER) return;
    super.log(level, message, meta);
  }
}
