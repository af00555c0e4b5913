// From a query and a selection on its results to the traces behind them: the filters, the time
// window and the two links (the trace search API and the Traces page).
//
// A selection is one of
//   - a heatmap region (a brushed rectangle or one clicked cell): column between min and max,
//     time between start and end;
//   - a chart point: one time bucket of one group (the group's breakdown values);
//   - a results row: one group over the whole window.
// A trace matches when one of its spans matches every filter inside the window (what
// GET /api/v1/traces does), so the traces listed are exactly those with a span the query counted
// in the selection.
import type { Filter } from "../api";
import { formatFilter, stateToSpec, type QueryState } from "./queryUrl";

export type Selection =
  | { kind: "heatmap"; column: string; min: number; max: number; startTime: number; endTime: number }
  | { kind: "point"; time: number; step: number; group: Record<string, unknown>; label: string }
  | { kind: "row"; group: Record<string, unknown>; label: string };

export interface TraceQuery {
  filters: Filter[];
  start: number; // Unix seconds
  end: number;
}

// A group's breakdown values as equality filters (a missing value: the column does not exist).
export function groupFilters(group: Record<string, unknown>): Filter[] {
  return Object.entries(group).map(([column, value]) =>
    value === null || value === undefined ? { column, op: "does-not-exist" } : { column, op: "=", value },
  );
}

export function traceQuery(state: QueryState, selection: Selection | null, nowSeconds?: number): TraceQuery {
  const spec = stateToSpec(state, nowSeconds);
  const filters: Filter[] = [...(spec.filters ?? [])];
  if (spec.dataset && spec.dataset !== "__all__") filters.push({ column: "service.name", op: "=", value: spec.dataset });
  let start = spec.start_time!;
  let end = spec.end_time!;
  if (selection?.kind === "heatmap") {
    filters.push({ column: selection.column, op: ">=", value: round(selection.min) });
    filters.push({ column: selection.column, op: "<=", value: round(selection.max) });
    start = Math.max(start, Math.floor(selection.startTime));
    end = Math.min(end, Math.ceil(selection.endTime));
  } else if (selection?.kind === "point") {
    filters.push(...groupFilters(selection.group));
    start = Math.max(start, Math.floor(selection.time));
    end = Math.min(end, Math.ceil(selection.time + selection.step));
  } else if (selection?.kind === "row") {
    filters.push(...groupFilters(selection.group));
  }
  if (end <= start) end = start + 1;
  return { filters, start, end };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

// Parameters of GET /api/v1/traces for these filters.
export function traceSearchParams(q: TraceQuery, limit = 50): URLSearchParams {
  const p = new URLSearchParams();
  if (q.filters.length) p.set("filters", JSON.stringify(q.filters));
  p.set("start", String(q.start));
  p.set("end", String(q.end));
  p.set("limit", String(limit));
  return p;
}

// The Traces page with the same filters (as `where` clauses, the query page's syntax).
export function tracesPageHref(q: TraceQuery): string {
  const p = new URLSearchParams();
  for (const f of q.filters) p.append("where", formatFilter(f));
  p.set("start", String(q.start));
  p.set("end", String(q.end));
  return `/traces?${p}`;
}

// A line describing the selection, for the tab's heading.
export function describeSelection(s: Selection, fmt: (v: number) => string = String): string {
  if (s.kind === "heatmap") return `${s.column} ${fmt(s.min)} – ${fmt(s.max)}`;
  if (s.kind === "point") return `${s.label} at ${new Date(s.time * 1000).toLocaleTimeString()} (${s.step}s bucket)`;
  return s.label;
}

// The trace view of one trace, with its start (unix nanos) as the read hint `near`: the server
// then reads only the time around it first (engines with time partitions read just those).
export function traceViewHref(t: { trace_id: string; start_time_unix_nano?: string }): string {
  const near = t.start_time_unix_nano && /^[1-9]\d*$/.test(t.start_time_unix_nano) ? `?near=${t.start_time_unix_nano}` : "";
  return `/traces/${t.trace_id}${near}`;
}
