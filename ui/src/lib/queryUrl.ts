// The query builder's state and its URL form, so a query can be shared and reloaded.
//
//   /query?calc=COUNT&calc=P99(duration_ms)&where=service.name%20%3D%20cart&combine=OR
//         &group=http.route&order=P99(duration_ms)%20desc&having=COUNT%20>%2010&limit=100
//         &range=3600          (or &start=UNIX&end=UNIX)   &gran=60   &dataset=NAME
//
// `where` is "COLUMN OP VALUE" (VALUE absent for exists/does-not-exist, comma separated for
// in/not-in, "quoted" to force a string); `having` is "CALC OP NUMBER"; `order` is "TARGET asc|desc".
import type { Calculation, Filter, Having, Order, QuerySpec } from "../api";

export interface QueryState {
  calcs: Calculation[];
  filters: Filter[];
  combine: "AND" | "OR";
  breakdowns: string[];
  orders: Order[];
  havings: Having[];
  limit?: number;
  range: number; // seconds, used when start/end are absent
  start?: number;
  end?: number;
  granularity?: number;
  dataset?: string;
}

export const FILTER_OPS = [
  "=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with", "ends-with",
  "does-not-end-with", "contains", "does-not-contain", "exists", "does-not-exist", "in", "not-in",
];
export const CALC_OPS = [
  "COUNT", "CONCURRENCY", "SUM", "AVG", "MIN", "MAX", "COUNT_DISTINCT", "P001", "P01", "P05",
  "P10", "P25", "P50", "P75", "P90", "P95", "P99", "P999", "HEATMAP", "RATE_AVG", "RATE_SUM",
  "RATE_MAX",
];
const COMPARE_OPS = ["=", "!=", ">", ">=", "<", "<="];
export const NO_COLUMN_OPS = new Set(["COUNT", "CONCURRENCY"]);
export const DEFAULT_RANGE = 7200;

export function defaultState(): QueryState {
  return {
    calcs: [{ op: "COUNT" }],
    filters: [],
    combine: "AND",
    breakdowns: [],
    orders: [],
    havings: [],
    range: DEFAULT_RANGE,
  };
}

export function calcLabel(c: Calculation): string {
  return c.column && !NO_COLUMN_OPS.has(c.op) ? `${c.op}(${c.column})` : c.op;
}

export function parseCalc(text: string): Calculation | null {
  const m = /^\s*([A-Za-z_0-9]+)\s*(?:\(\s*(.*?)\s*\))?\s*$/.exec(text);
  if (!m) return null;
  const op = m[1].toUpperCase();
  return m[2] ? { op, column: m[2] } : { op };
}

export function parseLiteral(text: string): string | number | boolean {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  if (t === "true") return true;
  if (t === "false") return false;
  if (t !== "" && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

function formatLiteral(v: unknown): string {
  if (typeof v === "string") {
    // Quote strings that would otherwise read back as another type or lose spaces.
    if (v !== v.trim() || typeof parseLiteral(v) !== "string" || v.includes(",")) return `"${v}"`;
    return v;
  }
  return String(v);
}

export function formatFilter(f: Filter): string {
  if (f.op === "exists" || f.op === "does-not-exist") return `${f.column} ${f.op}`;
  if (Array.isArray(f.value)) return `${f.column} ${f.op} ${f.value.map(formatLiteral).join(",")}`;
  return `${f.column} ${f.op} ${formatLiteral(f.value)}`;
}

export function parseFilter(text: string): Filter | null {
  const t = text.trim();
  const space = t.indexOf(" ");
  if (space <= 0) return null;
  const column = t.slice(0, space);
  const rest = t.slice(space + 1).trimStart();
  const opEnd = rest.indexOf(" ");
  const op = opEnd < 0 ? rest : rest.slice(0, opEnd);
  if (!FILTER_OPS.includes(op)) return null;
  const valueText = opEnd < 0 ? "" : rest.slice(opEnd + 1);
  if (op === "exists" || op === "does-not-exist") return { column, op };
  if (op === "in" || op === "not-in") {
    return { column, op, value: splitList(valueText).map(parseLiteral) };
  }
  return { column, op, value: parseLiteral(valueText) };
}

function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur.trim() !== "" || out.length) out.push(cur);
  return out;
}

export function formatHaving(h: Having): string {
  return `${calcLabel({ op: h.calculate_op, column: h.column })} ${h.op} ${h.value}`;
}

export function parseHaving(text: string): Having | null {
  const m = /^\s*(.+?)\s*(>=|<=|!=|=|>|<)\s*(-?[\d.eE+-]+)\s*$/.exec(text);
  if (!m || !COMPARE_OPS.includes(m[2])) return null;
  const calc = parseCalc(m[1]);
  const value = Number(m[3]);
  if (!calc || !isFinite(value)) return null;
  const h: Having = { calculate_op: calc.op, op: m[2], value };
  if (calc.column) h.column = calc.column;
  return h;
}

export function formatOrder(o: Order): string {
  const target = o.op ? calcLabel({ op: o.op, column: o.column }) : (o.column ?? "");
  return `${target} ${o.order === "ascending" ? "asc" : "desc"}`;
}

export function parseOrder(text: string, breakdowns: string[]): Order | null {
  const m = /^\s*(.+?)(?:\s+(asc|desc|ascending|descending))?\s*$/i.exec(text);
  if (!m) return null;
  const order = m[2] && m[2].toLowerCase().startsWith("asc") ? "ascending" : "descending";
  const target = m[1];
  if (breakdowns.includes(target)) return { column: target, order };
  const calc = parseCalc(target);
  if (!calc) return null;
  if (!CALC_OPS.includes(calc.op) && !/^P\d+$/.test(calc.op)) return { column: target, order };
  const o: Order = { op: calc.op, order };
  if (calc.column) o.column = calc.column;
  return o;
}

export function stateToParams(s: QueryState): URLSearchParams {
  const p = new URLSearchParams();
  for (const c of s.calcs) p.append("calc", calcLabel(c));
  for (const f of s.filters) p.append("where", formatFilter(f));
  if (s.combine === "OR") p.set("combine", "OR");
  for (const b of s.breakdowns) p.append("group", b);
  for (const o of s.orders) p.append("order", formatOrder(o));
  for (const h of s.havings) p.append("having", formatHaving(h));
  if (s.limit !== undefined) p.set("limit", String(s.limit));
  if (s.start !== undefined && s.end !== undefined) {
    p.set("start", String(s.start));
    p.set("end", String(s.end));
  } else if (s.range !== DEFAULT_RANGE) {
    p.set("range", String(s.range));
  }
  if (s.granularity !== undefined) p.set("gran", String(s.granularity));
  if (s.dataset) p.set("dataset", s.dataset);
  return p;
}

function positiveInt(text: string | null): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

export function paramsToState(p: URLSearchParams): QueryState {
  const s = defaultState();
  const calcs = p.getAll("calc").map(parseCalc).filter((c): c is Calculation => c !== null);
  if (calcs.length) s.calcs = calcs;
  s.filters = p.getAll("where").map(parseFilter).filter((f): f is Filter => f !== null);
  s.combine = p.get("combine")?.toUpperCase() === "OR" ? "OR" : "AND";
  s.breakdowns = p.getAll("group").filter((g) => g.trim() !== "");
  s.orders = p
    .getAll("order")
    .map((o) => parseOrder(o, s.breakdowns))
    .filter((o): o is Order => o !== null);
  s.havings = p.getAll("having").map(parseHaving).filter((h): h is Having => h !== null);
  s.limit = positiveInt(p.get("limit"));
  s.range = positiveInt(p.get("range")) ?? DEFAULT_RANGE;
  const start = positiveInt(p.get("start"));
  const end = positiveInt(p.get("end"));
  if (start !== undefined && end !== undefined && end > start) {
    s.start = start;
    s.end = end;
  }
  s.granularity = positiveInt(p.get("gran"));
  const dataset = p.get("dataset");
  if (dataset) s.dataset = dataset;
  return s;
}

// A granularity that gives about 60–120 points over the range, on round steps.
export function autoGranularity(rangeSeconds: number): number {
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  for (const step of steps) if (rangeSeconds / step <= 120) return step;
  return 86400;
}

export function stateToSpec(s: QueryState, nowSeconds = Math.floor(Date.now() / 1000)): QuerySpec {
  const end = s.start !== undefined && s.end !== undefined ? s.end : nowSeconds;
  const start = s.start !== undefined && s.end !== undefined ? s.start : nowSeconds - s.range;
  const spec: QuerySpec = {
    calculations: s.calcs.map((c) => (c.column && !NO_COLUMN_OPS.has(c.op) ? c : { op: c.op })),
    start_time: start,
    end_time: end,
    granularity: s.granularity ?? autoGranularity(end - start),
  };
  if (s.filters.length) spec.filters = s.filters;
  if (s.filters.length > 1 && s.combine === "OR") spec.filter_combination = "OR";
  if (s.breakdowns.length) spec.breakdowns = s.breakdowns;
  if (s.orders.length) spec.orders = s.orders;
  if (s.havings.length) spec.havings = s.havings;
  if (s.limit !== undefined) spec.limit = s.limit;
  if (s.dataset) spec.dataset = s.dataset;
  return spec;
}

// The query over a dragged time range (a drag across a chart): an absolute window of whole
// seconds, at least one second long; granularity is chosen again for the new window unless the
// query fixed it.
export function zoomState(s: QueryState, startSeconds: number, endSeconds: number): QueryState {
  let start = Math.floor(Math.min(startSeconds, endSeconds));
  let end = Math.ceil(Math.max(startSeconds, endSeconds));
  if (end <= start) end = start + 1;
  if (start < 1) start = 1;
  return { ...s, start, end, range: end - start };
}
