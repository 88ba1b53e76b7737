/**
 * Workflow spans (docs/interface.md §14): Temporal's OpenTelemetry workflow interceptors, switched on
 * per run by `patched('workflow-tracing')` (docs/architecture.md, "Workflow tracing").
 *
 * Runs recorded before this patch replay without them: on a history that carries none of the SDK's
 * OpenTelemetry flags the interceptors add the extra yields of their oldest release, which reorders
 * the workflow's commands. The decision is taken once per run, at the first inbound call that may
 * record a marker (execute, a signal or an update), and kept, so a run replayed from before the
 * patch never switches tracing on halfway when it reaches new events.
 *
 * Not a workflow: listed in the bundle's workflow interceptor modules (src/worker.ts).
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import {
  patched,
  type ActivityInput,
  type ContinueAsNewInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

export const WORKFLOW_TRACING_PATCH = 'workflow-tracing';

/** One run's decision, and the SDK's interceptors once it is yes. */
class TracingSwitch {
  private on: boolean | undefined;
  private inboundOtel: OpenTelemetryInboundInterceptor | undefined;
  private outboundOtel: OpenTelemetryOutboundInterceptor | undefined;

  /** Decides on the first call (a marker command in a new run); later calls return that decision. */
  decide(): boolean {
    if (this.on === undefined) {
      this.on = patched(WORKFLOW_TRACING_PATCH);
      if (this.on) {
        this.inboundOtel = new OpenTelemetryInboundInterceptor();
        this.outboundOtel = new OpenTelemetryOutboundInterceptor();
      }
    }
    return this.on;
  }

  /** Read-only calls (queries, update validators) never decide: they may not record a marker. */
  get inbound(): OpenTelemetryInboundInterceptor | undefined {
    return this.on ? this.inboundOtel : undefined;
  }

  get outbound(): OpenTelemetryOutboundInterceptor | undefined {
    return this.on ? this.outboundOtel : undefined;
  }
}

class TracingInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly tracing: TracingSwitch) {}

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return this.tracing.decide() ? this.tracing.inbound!.execute(input, next) : next(input);
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    return this.tracing.decide() ? this.tracing.inbound!.handleSignal(input, next) : next(input);
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    return this.tracing.decide() ? this.tracing.inbound!.handleUpdate(input, next) : next(input);
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    const otel = this.tracing.inbound;
    return otel ? otel.validateUpdate(input, next) : next(input);
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
