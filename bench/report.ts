/** Shapes of benchmark results, and the table printed on stdout. */

export interface Row {
  metric: string;
  value: string;
  baseline?: string;
  ratio?: string;
  note?: string;
}

export interface BenchOutput {
  /** Table rows. */
  rows: Row[];
  /** Everything measured, for results.json. */
  data: Record<string, unknown>;
  /** Dotted paths into `data` that must hold finite numbers for the benchmark to count as produced. */
  required: string[];
}

export interface BenchResult {
  id: string;
  title: string;
  ok: boolean;
  seconds: number;
  error?: string;
  missing?: string[];
  rows: Row[];
  data: Record<string, unknown>;
}

export const fmt = (x: number | undefined, digits = 1): string =>
  x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const ratio = (a: number, b: number, digits = 2): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, digits)}×` : '—');

export function valueAt(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function missingFigures(out: BenchOutput): string[] {
  return out.required.filter((p) => {
    const v = valueAt(out.data, p);
    return typeof v !== 'number' || !Number.isFinite(v);
  });
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderTable(results: BenchResult[]): string {
  const lines: string[] = [];
  const header: Row = { metric: 'metric', value: 'value', baseline: 'baseline', ratio: 'ratio', note: 'note' };
  for (const r of results) {
    lines.push('');
    lines.push(`${r.id}. ${r.title}  [${r.ok ? 'ok' : 'FAILED'}, ${r.seconds.toFixed(1)} s]`);
    if (r.error) lines.push(`   error: ${r.error}`);
    if (r.missing?.length) lines.push(`   missing figures: ${r.missing.join(', ')}`);
    const rows = [header, ...r.rows];
    const w = {
      metric: Math.max(...rows.map((x) => x.metric.length)),
      value: Math.max(...rows.map((x) => x.value.length)),
      baseline: Math.max(...rows.map((x) => (x.baseline ?? '').length)),
      ratio: Math.max(...rows.map((x) => (x.ratio ?? '').length)),
    };
    const sep = `   ${'-'.repeat(w.metric)}-+-${'-'.repeat(w.value)}-+-${'-'.repeat(w.baseline)}-+-${'-'.repeat(w.ratio)}-+-----`;
    rows.forEach((x, i) => {
      lines.push(
        `   ${pad(x.metric, w.metric)} | ${pad(x.value, w.value)} | ${pad(x.baseline ?? '', w.baseline)} | ${pad(x.ratio ?? '', w.ratio)} | ${x.note ?? ''}`.trimEnd(),
      );
      if (i === 0) lines.push(sep);
    });
  }
  return lines.join('\n');
}
