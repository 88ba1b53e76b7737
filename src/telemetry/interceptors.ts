/**
 * The activity interceptors every Infty worker registers (src/worker.ts): an OpenTelemetry span per
 * activity execution (`RunActivity:<type>`; a no-op until the process registers a tracer provider,
 * src/telemetry/tracing.ts), then Infty's per-role metrics.
 */
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { activityMetrics } from './activityMetrics';

/** Outermost first: the span covers the metrics and every interceptor after these. */
export function activityTelemetry(): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
    activityMetrics(),
  ];
}
