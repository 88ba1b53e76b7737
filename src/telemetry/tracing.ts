/**
 * OpenTelemetry traces over OTLP/HTTP (JSON): a tracer provider registered globally, so the Temporal
 * interceptors every InftyClient and Infty worker carry (src/client.ts, src/telemetry/interceptors.ts)
 * record `StartWorkflow:…`, `SignalWorkflow:…`, `QueryWorkflow:…` and `RunActivity:…` spans; the
 * workflow's own spans (`RunWorkflow:…`, `StartActivity:…`, src/workflows/tracing.ts) leave the
 * workflow sandbox through a sink into the same span processor.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
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

/** Where the workflow span sink sends spans while tracing is on in this process. */
let active: { processor: SpanProcessor; resource: Resource } | undefined;

/** The processor and resource of the tracing started in this process, if any. */
export function activeTracing(): { processor: SpanProcessor; resource: Resource } | undefined {
  return active;
}

/** Registers the process-wide tracer provider (context manager and W3C propagation included). */
export function startTracing(opts: TracingOptions): Tracing {
  const resource = new Resource({ 'service.name': opts.serviceName }).merge(envDetectorSync.detect());
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  active = { processor, resource };
  const timeoutMs = opts.flushTimeoutMs ?? 5_000;
  return {
    async shutdown() {
      if (active?.processor === processor) active = undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}
