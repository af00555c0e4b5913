// BubbleUp ranking on the client: orders the server's per-column distributions by how much the
// selection differs from the baseline, and the values inside a column by their own difference.
//
// Score of a column = total variation distance between the two distributions,
// ½·Σ|selection(v) − baseline(v)|, in [0, 1]: 0 when they are identical, 1 when they share no
// value. The server's score is used when it sends one. Columns that identify single spans or
// traces (ids, timestamps) say nothing about a population and are left out.
import type { BubbleUpColumn, BubbleUpResponse, BubbleUpValue } from "../api";

export interface RankedValue extends BubbleUpValue {
  diff: number; // selection − baseline, as a fraction
}
export interface RankedColumn {
  column: string;
  score: number;
  values: RankedValue[];
  hiddenValues: number;
}

const NOISE_COLUMNS = new Set([
  "trace.trace_id", "trace.span_id", "trace.parent_id", "span_id", "trace_id",
  "parent_span_id", "timestamp", "start_time", "end_time",
]);

export function totalVariation(values: BubbleUpValue[]): number {
  let sum = 0;
  for (const v of values) sum += Math.abs((v.selection || 0) - (v.baseline || 0));
  return Math.min(1, sum / 2);
}

export function rankBubbleUp(
  response: Pick<BubbleUpResponse, "columns">,
  options: { maxValues?: number; excludeColumns?: Iterable<string> } = {},
): RankedColumn[] {
  const maxValues = options.maxValues ?? 8;
  const exclude = new Set(options.excludeColumns ?? []);
  const out: RankedColumn[] = [];
  for (const col of response.columns as BubbleUpColumn[]) {
    if (NOISE_COLUMNS.has(col.column) || exclude.has(col.column)) continue;
    const values: RankedValue[] = (col.values ?? []).map((v) => ({
      ...v,
      selection: v.selection || 0,
      baseline: v.baseline || 0,
      diff: (v.selection || 0) - (v.baseline || 0),
    }));
    const score =
      typeof col.score === "number" && isFinite(col.score) ? col.score : totalVariation(values);
    values.sort(
      (a, b) =>
        Math.abs(b.diff) - Math.abs(a.diff) ||
        b.selection - a.selection ||
        String(a.value).localeCompare(String(b.value)),
    );
    out.push({
      column: col.column,
      score,
      values: values.slice(0, maxValues),
      hiddenValues: Math.max(0, values.length - maxValues),
    });
  }
  out.sort((a, b) => b.score - a.score || a.column.localeCompare(b.column));
  return out;
}

// Distributions from raw value counts (the same shape the server sends), for callers that count
// themselves.
export function distributions(
  selection: Map<string, number>,
  baseline: Map<string, number>,
): BubbleUpValue[] {
  const selTotal = [...selection.values()].reduce((a, b) => a + b, 0) || 1;
  const baseTotal = [...baseline.values()].reduce((a, b) => a + b, 0) || 1;
  const keys = new Set([...selection.keys(), ...baseline.keys()]);
  return [...keys].map((value) => ({
    value,
    selection: (selection.get(value) ?? 0) / selTotal,
    baseline: (baseline.get(value) ?? 0) / baseTotal,
  }));
}
