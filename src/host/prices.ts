/**
 * Model prices (docs/behaviour.md §5.2, docs/interface.md §4 `INFTY_PRICES`): the maintained table of
 * `@pydantic/genai-prices`, which the `INFTY_PRICES` file overrides and extends. Lookup is data only,
 * no I/O after the file is read; it runs in the model activity and the CLI, never in workflow code
 * (the workflow sums what the activity returns).
 *
 * A model without a known price has none: `costOf` returns null, never an invented number.
 */
import { readFileSync } from 'node:fs';
import { calcPrice } from '@pydantic/genai-prices';
import { z } from 'zod';
import { UsageError } from '../errors';
import type { Usage } from '../protocol/items';

/** Dollars per million tokens; cached input at `cache_read_mtok` (default: the input price). */
const ModelPriceSchema = z
  .object({
    input_mtok: z.number().finite().min(0),
    cache_read_mtok: z.number().finite().min(0).optional(),
    output_mtok: z.number().finite().min(0),
  })
  .strict();

/** The `INFTY_PRICES` file: `{"models": {"<model>": {"input_mtok": …, "cache_read_mtok": …, "output_mtok": …}}}`. */
const PricesFileSchema = z.object({ models: z.record(z.string().min(1), ModelPriceSchema) }).strict();

export type ModelPrice = z.infer<typeof ModelPriceSchema>;

export interface PriceTable {
  /** From `INFTY_PRICES`, by model name (exact, then lower case); they win over the package's table. */
  overrides: Map<string, ModelPrice>;
  /** The file they came from, if any. */
  source: string | null;
}

export const NO_OVERRIDES: PriceTable = { overrides: new Map(), source: null };

/** Reads `INFTY_PRICES` (a JSON file); a missing, unreadable or malformed file is an input error (exit 2). */
export function loadPrices(file: string | undefined): PriceTable {
  if (!file) return NO_OVERRIDES;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`INFTY_PRICES: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`INFTY_PRICES: ${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = PricesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new UsageError(
      `INFTY_PRICES: ${file}${where}: ${issue?.message ?? 'invalid'}; expected {"models": {"<model>": {"input_mtok": N, "cache_read_mtok": N, "output_mtok": N}}} (dollars per million tokens)`,
    );
  }
  const overrides = new Map<string, ModelPrice>();
  for (const [model, price] of Object.entries(parsed.data.models)) overrides.set(model, price);
  return { overrides, source: file };
}

function override(model: string, table: PriceTable): ModelPrice | undefined {
  return table.overrides.get(model) ?? table.overrides.get(model.toLowerCase().trim());
}

/** Dollars of one call at an `INFTY_PRICES` price: uncached input, cached input at the cached price, output (reasoning included). */
export function costAt(price: ModelPrice, usage: Usage): number {
  const cached = Math.min(Math.max(0, usage.cachedInputTokens), Math.max(0, usage.inputTokens));
  const uncached = Math.max(0, usage.inputTokens - cached);
  return (uncached * price.input_mtok + cached * (price.cache_read_mtok ?? price.input_mtok) + Math.max(0, usage.outputTokens) * price.output_mtok) / 1e6;
}

/** The package's price for this usage, or null when it knows no price for the model. */
function tablePrice(model: string, usage: Usage): number | null {
  const inputTokens = Math.max(0, usage.inputTokens);
  const cached = Math.min(Math.max(0, usage.cachedInputTokens), inputTokens);
  try {
    const result = calcPrice({ input_tokens: inputTokens, cache_read_tokens: cached, output_tokens: Math.max(0, usage.outputTokens) }, model);
    if (!result) return null;
    const total = Number(result.total_price);
    return Number.isFinite(total) && total >= 0 ? total : null;
  } catch {
    return null; // a price the table cannot apply to this usage is unknown, not zero
  }
}

/** One model's price for this usage: INFTY_PRICES first, then the package's table; null when neither knows it. */
export function modelCost(model: string, usage: Usage, table: PriceTable): number | null {
  if (!model) return null;
  const own = override(model, table);
  if (own) return costAt(own, usage);
  return tablePrice(model, usage);
}

/**
 * A model step's cost: priced as the model that answered (the response's `model`), else as the model
 * requested (an endpoint may name its own variant, e.g. `llama3:latest` for `llama3`). Null: neither
 * has a known price.
 */
export function costOf(usage: Usage, models: { answering?: string; requested: string }, table: PriceTable): number | null {
  if (models.answering) {
    const answered = modelCost(models.answering, usage, table);
    if (answered !== null) return answered;
  }
  return modelCost(models.requested, usage, table);
}

/** Whether a model has a known price (the CLI refuses a cost budget for one without). */
export function priceKnown(model: string, table: PriceTable): boolean {
  return modelCost(model, { inputTokens: 1_000_000, cachedInputTokens: 0, outputTokens: 1_000_000, reasoningTokens: 0 }, table) !== null;
}
