/** Metrics and traces (docs/interface.md §14). */
export { activityTelemetry } from './interceptors';
export { MODEL_COST_USD, MODEL_ERRORS, MODEL_LATENCY, MODEL_TOKENS, MODEL_UNPRICED_CALLS, TOOL_ERRORS, TOOL_LATENCY } from './metricNames';
export { runtimeTelemetry } from './runtime';
export { startTracing, type Tracing, type TracingOptions, tracesUrl } from './tracing';
export { workflowSpanSinks } from './workflowSpans';
