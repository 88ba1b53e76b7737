/** What every command shares: its notes on stderr and the connection options from the configuration. */
import type { ConnectOptions } from '../client';
import type { InftyConfig } from '../config';

export function note(message: string): void {
  process.stderr.write(`infty: ${message}\n`);
}

export function connectOptions(config: InftyConfig): ConnectOptions {
  return {
    address: config.temporalAddress,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    tls: config.temporalTls ?? false,
    apiKey: config.temporalApiKey,
    localWorkerId: config.workerId,
  };
}
