// The query API (docs/api.md), called from the UI's own origin.
import { notifyUnauthorized } from "./session";

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `cannot reach the Ariadne server (${(e as Error).message})`);
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (response.status === 401) notifyUnauthorized();
  if (!response.ok) {
    const b = body as { error?: string; message?: string; Message?: string } | undefined;
    const message = b?.error ?? b?.message ?? b?.Message ?? (text.slice(0, 300) || response.statusText);
    throw new ApiError(response.status, message);
  }
  return body as T;
}

export const getJson = <T>(path: string) => call<T>(path);
export const postJson = <T>(path: string, body: unknown, signal?: AbortSignal) =>
  call<T>(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });

// ---- Traces ----
export interface Attribute {
  key: string;
  type: string;
  value: unknown;
}
export interface SpanEvent {
  time_unix_nano: string;
  name: string;
  attributes: Attribute[];
}
export interface SpanLink {
  trace_id: string;
  span_id: string;
  trace_state: string;
  attributes: Attribute[];
}
export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ms: number;
  status: { code: string; message: string };
  service_name: string;
  environment: string;
  resource: { attributes: Attribute[]; schema_url?: string };
  scope: { name: string; version: string; attributes: Attribute[] };
  attributes: Attribute[];
  events: SpanEvent[];
  links: SpanLink[];
}
export interface Trace {
  trace_id: string;
  xray_trace_id: string;
  span_count: number;
  services: string[];
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  duration_ms: number;
  spans: Span[];
}
// `near`: unix nanos a span of the trace starts at (a trace list's start time), so the server reads
// only the time around it first; X-Ray ids carry their time already.
export const getTrace = (id: string, near?: string | null) =>
  getJson<Trace>(`/api/v1/traces/${encodeURIComponent(id)}${near && /^\d+$/.test(near) ? `?near=${near}` : ""}`);

export interface TraceSummary {
  trace_id: string;
  xray_trace_id?: string;
  environment?: string;
  root_service: string;
  root_name: string;
  start_time_unix_nano: string;
  duration_ms: number;
  span_count: number;
  services: string[];
  error_count: number;
}
export const searchTraces = (params: URLSearchParams) =>
  getJson<{ traces: TraceSummary[] }>(`/api/v1/traces?${params}`);

// ---- Services ----
export interface ServiceSummary {
  environment: string;
  name: string;
  span_count: number;
  error_count: number;
  trace_root_count: number;
  first_seen_unix_nano: string;
  last_seen_unix_nano: string;
}
export const listServices = () => getJson<{ services: ServiceSummary[] }>("/api/v1/services");

// ---- Aggregate queries ----
export interface Calculation {
  op: string;
  column?: string;
}
export interface Filter {
  column: string;
  op: string;
  value?: unknown;
}
export interface Order {
  op?: string;
  column?: string;
  order?: "ascending" | "descending";
}
export interface Having {
  calculate_op: string;
  column?: string;
  op: string;
  value: number;
}
export interface QuerySpec {
  calculations?: Calculation[];
  filters?: Filter[];
  filter_combination?: "AND" | "OR";
  breakdowns?: string[];
  orders?: Order[];
  havings?: Having[];
  limit?: number;
  time_range?: number;
  start_time?: number;
  end_time?: number;
  granularity?: number;
  environment?: string;
  dataset?: string;
}
export interface HeatmapValue {
  buckets: { lower: number; upper: number; count: number }[];
}
export type ResultData = Record<string, unknown>;
export interface QueryResponse {
  data: {
    results: { data: ResultData }[];
    series: { time: string; data: ResultData }[];
    totals: ResultData;
  };
  meta: {
    start_time: number;
    end_time: number;
    granularity: number;
    blocks_scanned?: number;
    spans_scanned?: number;
    spans_matched?: number;
  };
}
export const runQuery = (spec: QuerySpec) => postJson<QueryResponse>("/api/v1/query", spec);

export interface Column {
  name: string;
  type: string;
  source: string;
}
// Every column seen in the last ten years: the server checks queries against all of them.
export const listColumns = () => getJson<{ columns: Column[] }>("/api/v1/columns?time_range=315360000");

// ---- Server info: the addresses this server listens on ----
export interface Listener {
  name: string; // otlp-http, xray-udp, xray-tcp, http
  protocol: string;
  transport: string;
  host: string;
  port: number;
  tls: boolean;
  url?: string;
}
export const getInfo = () => getJson<{ listeners: Listener[] }>("/api/v1/info");

// ---- Service graph ----
export interface GraphNode {
  name: string;
  kind: string;
  request_count: number;
  error_count: number;
}
export interface GraphEdge {
  source: string;
  target: string;
  request_count: number;
  error_count: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
}
// With `xrayFilter` (an X-Ray group's expression) the graph of the matching traces only.
export const getServiceGraph = (start: number, end: number, environment?: string, xrayFilter?: string) =>
  getJson<{ nodes: GraphNode[]; edges: GraphEdge[] }>(
    `/api/v1/service-graph?start=${Math.floor(start)}&end=${Math.ceil(end)}` +
      (environment ? `&environment=${encodeURIComponent(environment)}` : "") +
      (xrayFilter ? `&xray_filter=${encodeURIComponent(xrayFilter)}` : ""),
  );

// ---- BubbleUp ----
export interface BubbleUpRequest {
  start_time: number;
  end_time: number;
  filters?: Filter[];
  dataset?: string;
  selection: { column: string; min: number; max: number; start_time: number; end_time: number };
}
export interface BubbleUpValue {
  value: unknown;
  selection: number;
  baseline: number;
}
export interface BubbleUpColumn {
  column: string;
  score?: number;
  values: BubbleUpValue[];
}
export interface BubbleUpResponse {
  columns: BubbleUpColumn[];
  selection_count: number;
  baseline_count: number;
}
// Aborting `signal` closes the connection, which cancels the server's work (docs/api.md).
export const bubbleUp = (req: BubbleUpRequest, signal?: AbortSignal) =>
  postJson<BubbleUpResponse>("/api/v1/bubbleup", req, signal);

// ---- X-Ray API, proxied by the server under /api/v1/xray/<operation path> ----
export const xray = <T>(operation: string, body: unknown) =>
  postJson<T>(`/api/v1/xray/${operation}`, body);
