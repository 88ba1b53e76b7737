/**
 * The sink that carries spans out of the workflow sandbox (src/workflows/tracing.ts) into this
 * process's span processor (src/telemetry/tracing.ts). Every Infty worker registers it: a bundle's
 * interceptors are the same whether or not this process traces, and without tracing the spans are
 * dropped here. Like every sink, it is not called while a worker replays history.
 */
import { makeWorkflowExporter, type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import { activeTracing } from './tracing';

export function workflowSpanSinks(): InjectedSinks<OpenTelemetrySinks> {
  let exporter: { tracing: ReturnType<typeof activeTracing>; sink: ReturnType<typeof makeWorkflowExporter> } | undefined;
  return {
    exporter: {
      export: {
        fn(info, spans) {
          const tracing = activeTracing();
          if (!tracing) return;
          if (exporter?.tracing !== tracing) exporter = { tracing, sink: makeWorkflowExporter(tracing.processor, tracing.resource) };
          exporter.sink.export.fn(info, spans);
        },
      },
    },
  };
}
