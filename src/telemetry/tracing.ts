/**
 * OpenTelemetry traces over OTLP/HTTP (JSON): a tracer provider registered globally, so the Temporal
 * interceptors every InftyClient and Infty worker carry (src/client.ts, src/telemetry/interceptors.ts)
 * record `StartWorkflow:…`, `SignalWorkflow:…`, `QueryWorkflow:…` and `RunActivity:…` spans.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** The OTLP base URL (OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://collector:4318); spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** The default `service.name`; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it (the OTel SDK's environment detector). */
  serviceName: string;
  /** How long shutdown may take to send the last spans (default 5 s). */
  flushTimeoutMs?: number;
}

export interface Tracing {
  /** Sends the spans still buffered and stops; never throws, gives up after the flush timeout. */
  shutdown(): Promise<void>;
}

/** `<endpoint>/v1/traces`, as OTLP/HTTP exporters derive it from OTEL_EXPORTER_OTLP_ENDPOINT. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** Registers the process-wide tracer provider (context manager and W3C propagation included). */
export function startTracing(opts: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: new Resource({ 'service.name': opts.serviceName }).merge(envDetectorSync.detect()),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) }))],
  });
  provider.register();
  const timeoutMs = opts.flushTimeoutMs ?? 5_000;
  return {
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}
