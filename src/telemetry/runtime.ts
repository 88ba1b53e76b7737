/**
 * Telemetry options of the Temporal runtime (one per process): with a metrics port, a Prometheus
 * endpoint serving Temporal's worker metrics and Infty's own (src/telemetry/metricNames.ts).
 */
import type { TelemetryOptions } from '@temporalio/worker';
import { HISTOGRAM_BUCKETS } from './metricNames';

/**
 * `Runtime.install({ telemetryOptions: runtimeTelemetry({ metricsPort }) })`. The endpoint listens
 * on every interface (`0.0.0.0`, so a scraper reaches it inside a container) unless `host` is given.
 */
export function runtimeTelemetry(opts: { metricsPort: number | undefined; host?: string }): TelemetryOptions | undefined {
  if (opts.metricsPort === undefined) return undefined;
  return {
    metrics: {
      prometheus: {
        bindAddress: `${opts.host ?? '0.0.0.0'}:${opts.metricsPort}`,
        histogramBucketOverrides: HISTOGRAM_BUCKETS,
      },
    },
  };
}
