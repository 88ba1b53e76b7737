/**
 * Workflow spans (docs/interface.md §14): Temporal's OpenTelemetry workflow interceptors, for the runs
 * a traced client started, behind `isPatched('workflowTracing')` (docs/architecture.md, "Workflow
 * tracing").
 *
 * The decision is taken once per execution, when it starts, from what its history holds: the start
 * request's trace context (sampled or not) and the patch marker. Runs recorded before the patch replay
 * without the interceptors: on a history without the SDK's OpenTelemetry flags they would add the
 * extra yields of their oldest release, which reorders the workflow's commands. A run that replays
 * from before the patch keeps that decision when it reaches new events.
 *
 * Not a workflow: listed in the bundle's workflow interceptor modules (src/workflowBundle.ts).
 */
// First: loading it gives the sandbox the globals OpenTelemetry's packages read when they load (`performance`).
// biome-ignore-all assist/source/organizeImports: @temporalio/workflow and Temporal's instrumentation load before @opentelemetry/core, which reads \`performance\` when it loads; sorted first, it fails the workflow bundle
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { defaultTextMapGetter, isSpanContextValid, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  defaultPayloadConverter,
  type ActivityInput,
  type ContinueAsNewInput,
  type Next,
  type Payload,
  type SignalInput,
  type SignalWorkflowInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { isPatched, PATCHES } from './patches';

export const WORKFLOW_TRACING_PATCH = PATCHES.workflowTracing.id;

/** Whether the start request carried a sampled W3C trace context (a traced client started the run). */
export function startedTraced(headers: Record<string, Payload>): boolean {
  const header = headers[TRACE_HEADER];
  if (!header) return false;
  let carrier: unknown;
  try {
    carrier = defaultPayloadConverter.fromPayload(header);
  } catch {
    return false;
  }
  if (typeof carrier !== 'object' || carrier === null) return false;
  const span = trace.getSpanContext(new W3CTraceContextPropagator().extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  return span !== undefined && isSpanContextValid(span) && (span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** One execution's decision: the SDK's interceptors once it is yes, none otherwise. */
class TracingSwitch {
  inbound: OpenTelemetryInboundInterceptor | undefined;
  outbound: OpenTelemetryOutboundInterceptor | undefined;

  /**
   * At the execution's start. An untraced start records no marker; a traced one records it, and
   * only a history holding it (every run since the patch) is traced on replay.
   */
  decide(input: WorkflowExecuteInput): void {
    if (startedTraced(input.headers) && isPatched('workflowTracing')) {
      this.inbound = new OpenTelemetryInboundInterceptor();
      this.outbound = new OpenTelemetryOutboundInterceptor();
    }
  }
}

class TracingInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly tracing: TracingSwitch) {}

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    this.tracing.decide(input);
    const otel = this.tracing.inbound;
    return otel ? otel.execute(input, next) : next(input);
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    const otel = this.tracing.inbound;
    return otel ? otel.handleSignal(input, next) : next(input);
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    const otel = this.tracing.inbound;
    return otel ? otel.handleUpdate(input, next) : next(input);
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    const otel = this.tracing.inbound;
    if (otel) otel.validateUpdate(input, next);
    else next(input);
  }
}

class TracingOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly tracing: TracingSwitch) {}

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    const otel = this.tracing.outbound;
    return otel ? otel.scheduleActivity(input, next) : next(input);
  }

  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>): Promise<never> {
    const otel = this.tracing.outbound;
    return otel ? otel.continueAsNew(input, next) : next(input);
  }

  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    const otel = this.tracing.outbound;
    return otel ? otel.signalWorkflow(input, next) : next(input);
  }

  getLogAttributes(input: Record<string, unknown>, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>): Record<string, unknown> {
    const otel = this.tracing.outbound;
    return otel ? otel.getLogAttributes(input, next) : next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => {
  const tracing = new TracingSwitch();
  return {
    inbound: [new TracingInbound(tracing)],
    outbound: [new TracingOutbound(tracing)],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
