/**
 * Heartbeats of long activities (docs/architecture.md decision 3). A worker that dies is noticed
 * after the timeout and the activity is retried on another worker; activities heartbeat several
 * times per timeout so a busy event loop does not look like a dead worker.
 */
export const HEARTBEAT_EVERY_MS = 1_000;
export const HEARTBEAT_TIMEOUT_MS = 3_000;
