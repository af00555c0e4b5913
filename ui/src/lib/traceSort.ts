// Sorting a trace list: by start (default: newest first), duration, span count or error count.
// The sort lives in the Traces page's URL as sort=start|duration|spans|errors and dir=asc|desc.
import type { TraceSummary } from "../api";

export type SortKey = "start" | "duration" | "spans" | "errors";
export interface TraceSort {
  key: SortKey;
  dir: "asc" | "desc";
}
export const DEFAULT_SORT: TraceSort = { key: "start", dir: "desc" };
const KEYS: SortKey[] = ["start", "duration", "spans", "errors"];

export function parseSort(q: URLSearchParams): TraceSort {
  const key = q.get("sort") as SortKey | null;
  const dir = q.get("dir");
  return {
    key: key && KEYS.includes(key) ? key : "start",
    dir: dir === "asc" || dir === "desc" ? dir : "desc",
  };
}

// Start times are nanosecond strings: compared by length then text (exact beyond 2^53).
function cmpNs(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export function sortTraces(traces: TraceSummary[], sort: TraceSort): TraceSummary[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  const by: Record<SortKey, (a: TraceSummary, b: TraceSummary) => number> = {
    start: (a, b) => cmpNs(a.start_time_unix_nano, b.start_time_unix_nano),
    duration: (a, b) => a.duration_ms - b.duration_ms,
    spans: (a, b) => a.span_count - b.span_count,
    errors: (a, b) => a.error_count - b.error_count,
  };
  // Ties: newest first, then by id, so the order is total and stable across reloads.
  return [...traces].sort(
    (a, b) =>
      sign * by[sort.key](a, b) ||
      -cmpNs(a.start_time_unix_nano, b.start_time_unix_nano) ||
      (a.trace_id < b.trace_id ? -1 : a.trace_id > b.trace_id ? 1 : 0),
  );
}

// A click on a column: the same column flips its direction; a new one starts descending
// (newest, longest, most spans, most errors first).
export function nextSort(cur: TraceSort, key: SortKey): TraceSort {
  if (cur.key === key) return { key, dir: cur.dir === "desc" ? "asc" : "desc" };
  return { key, dir: "desc" };
}
