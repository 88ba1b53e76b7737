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
import type * as OtelApi from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import type * as OtelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  type ActivityInput,
  type ContinueAsNewInput,
  type DisposeInput,
  defaultPayloadConverter,
  type LocalActivityInput,
  type Next,
  type Payload,
  type SignalInput,
  type SignalWorkflowInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { isPatched, PATCHES } from './patches';

export const WORKFLOW_TRACING_PATCH = PATCHES.workflowTracing.id;

/**
 * OpenTelemetry's packages, loaded by the first traced execution that needs them: evaluating them
 * took about 4 ms of every workflow's start, traced or not (docs/architecture.md, "Worker tuning").
 * Each execution has its own module instances, so this loads once per traced execution. Temporal's
 * workflow module loads first: it gives the sandbox the globals (`performance`) that
 * @opentelemetry/core reads when it loads.
 */
function otel(): { workflow: typeof OtelWorkflow; api: typeof OtelApi; core: typeof OtelCore } {
  const workflow: typeof OtelWorkflow = require('@temporalio/interceptors-opentelemetry/lib/workflow');
  return { workflow, api: require('@opentelemetry/api'), core: require('@opentelemetry/core') };
}

/**
 * Whether the start request carried a sampled W3C trace context (a traced client started the run).
 * Every start from Infty's client carries the header; without a tracer its carrier is empty, which
 * holds no trace context whatever the propagator, and is answered without loading OpenTelemetry.
 */
export function startedTraced(headers: Record<string, Payload>): boolean {
  const header = headers[TRACE_HEADER];
  if (!header) return false;
  let carrier: unknown;
  try {
    carrier = defaultPayloadConverter.fromPayload(header);
  } catch {
    return false;
  }
  if (typeof carrier !== 'object' || carrier === null || Object.keys(carrier).length === 0) return false;
  const { api, core } = otel();
  const span = api.trace.getSpanContext(new core.W3CTraceContextPropagator().extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter));
  return span !== undefined && api.isSpanContextValid(span) && (span.traceFlags & api.TraceFlags.SAMPLED) === api.TraceFlags.SAMPLED;
}

/** One execution's decision: the SDK's interceptors once it is yes, none otherwise. */
class TracingSwitch {
  inbound: OtelWorkflow.OpenTelemetryInboundInterceptor | undefined;
  outbound: OtelWorkflow.OpenTelemetryOutboundInterceptor | undefined;
  internals: OtelWorkflow.OpenTelemetryInternalsInterceptor | undefined;

  /**
   * At the execution's start. An untraced start records no marker; a traced one records it, and
   * only a history holding it (every run since the patch) is traced on replay.
   */
  decide(input: WorkflowExecuteInput): void {
    if (startedTraced(input.headers) && isPatched('workflowTracing')) {
      const { workflow } = otel();
      this.inbound = new workflow.OpenTelemetryInboundInterceptor();
      this.outbound = new workflow.OpenTelemetryOutboundInterceptor();
      this.internals = new workflow.OpenTelemetryInternalsInterceptor();
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

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    const otel = this.tracing.outbound;
    return otel ? otel.scheduleLocalActivity(input, next) : next(input);
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

/** Disables the execution's OpenTelemetry context manager when it is disposed, if it was traced. */
class TracingInternals implements WorkflowInternalsInterceptor {
  constructor(private readonly tracing: TracingSwitch) {}

  dispose(input: DisposeInput, next: Next<WorkflowInternalsInterceptor, 'dispose'>): void {
    const otel = this.tracing.internals;
    if (otel) void otel.dispose(input, next);
    else next(input);
  }
}

export const interceptors = (): WorkflowInterceptors => {
  const tracing = new TracingSwitch();
  return {
    inbound: [new TracingInbound(tracing)],
    outbound: [new TracingOutbound(tracing)],
    internals: [new TracingInternals(tracing)],
  };
};
