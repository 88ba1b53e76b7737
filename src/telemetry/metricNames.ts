/**
 * Infty's own metrics (docs/interface.md §14): names, attributes and histogram
 * buckets. They are emitted through the Temporal runtime's metric meter, so they appear next to
 * Temporal's worker metrics on the same Prometheus endpoint.
 */

/** Counter, attributes role, model, purpose, kind (input, cached_input, output, reasoning). */
export const MODEL_TOKENS = 'infty_model_tokens';
/** Histogram (ms), attributes role, model, purpose, outcome (ok, error, cancelled). */
export const MODEL_LATENCY = 'infty_model_latency';
/** Counter, attributes role, model, purpose, error_type. */
export const MODEL_ERRORS = 'infty_model_errors';
/**
 * Histogram (float, US dollars per model call from the price table), attributes role, model, purpose.
 * A runtime counter takes whole numbers only, so dollars are a histogram: its `_sum` is the dollars
 * spent (it only grows, like a counter), its `_count` the priced calls.
 */
export const MODEL_COST_USD = 'infty_model_cost_usd';
/** Counter, attributes role, model, purpose: model calls whose model has no known price (in no dollar figure). */
export const MODEL_UNPRICED_CALLS = 'infty_model_unpriced_calls';
/** Histogram (ms), attributes role, tool, outcome (ok, error, cancelled). */
export const TOOL_LATENCY = 'infty_tool_latency';
/** Counter, attributes role, tool, error_type. */
export const TOOL_ERRORS = 'infty_tool_errors';

/** Model calls take seconds to minutes; the runtime's default buckets stop at 10 s. */
const MODEL_LATENCY_BUCKETS_MS = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000];
/** Tools range from a file read (ms) to a 15-minute command. */
const TOOL_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000];

/** Dollars per call: a cheap step is a fraction of a cent, a long-context one on a large model dollars. */
const MODEL_COST_BUCKETS_USD = [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/** Histogram boundaries for the runtime's Prometheus exporter (`histogramBucketOverrides`). */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [MODEL_COST_USD]: MODEL_COST_BUCKETS_USD,
  [MODEL_LATENCY]: MODEL_LATENCY_BUCKETS_MS,
  [TOOL_LATENCY]: TOOL_LATENCY_BUCKETS_MS,
};
