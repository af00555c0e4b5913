// Home: every service with its span rate, error rates and p50/p99 duration over the chosen range,
// each with a sparkline (two POST /api/v1/query calls broken down by service.name).
//
// Two error rates, each named where it is shown (docs/ui.md):
//   - span errors: the share of all the service's spans with error status (query: error = true);
//   - request errors: the share of the requests the service received (its SERVER/CONSUMER and
//     root spans) that failed — the service map's measure, from GET /api/v1/service-graph.
import { ApiError, getServiceGraph, listServices, runQuery, type GraphNode, type QueryResponse } from "../api";
import { sparkline } from "../components/charts";
import { sendDataHelp } from "../components/empty";
import { resolveRange, timePicker, type TimeRange } from "../components/timepicker";
import { formatDuration, formatNumber, formatRate, h, link, serviceColor } from "../dom";
import type { PageContext } from "../main";
import { navigate } from "../nav";
import { autoGranularity, stateToParams, defaultState } from "../lib/queryUrl";

interface Row {
  name: string;
  count: number;
  errors: number;
  p50: number | null;
  p99: number | null;
  countSeries: (number | null)[];
  errorSeries: (number | null)[];
  p99Series: (number | null)[];
}

function num(v: unknown): number | null {
  return typeof v === "number" && isFinite(v) ? v : null;
}

export async function render(ctx: PageContext): Promise<void> {
  const range: TimeRange = { range: Number(ctx.query.get("range")) || 3600 };
  const [start, end] = resolveRange(range);
  const granularity = autoGranularity(end - start);
  const header = h(
    "div",
    { class: "page-head" },
    h("h1", null, "Services"),
    timePicker(range, (v) => navigate(`/?range=${v.range}`)),
  );
  const body = h("div", null, h("p", { class: "muted loading" }, "Loading services…"));
  ctx.root.append(header, body);

  let services;
  try {
    services = (await listServices()).services;
  } catch (e) {
    body.replaceChildren(h("div", { class: "error-box" }, `Could not list services: ${(e as Error).message}`));
    return;
  }
  if (services.length === 0) {
    body.replaceChildren(sendDataHelp("No services have sent traces yet"));
    return;
  }

  const spec = {
    start_time: start,
    end_time: end,
    granularity,
    breakdowns: ["service.name"],
    limit: 1000,
  };
  let all: QueryResponse, errs: QueryResponse;
  // The map's request counts (optional: the table still works without them).
  const graphNodes = getServiceGraph(start, end)
    .then((g) => new Map(g.nodes.map((n) => [n.name, n])))
    .catch(() => new Map<string, GraphNode>());
  try {
    [all, errs] = await Promise.all([
      runQuery({
        ...spec,
        calculations: [{ op: "COUNT" }, { op: "P50", column: "duration_ms" }, { op: "P99", column: "duration_ms" }],
      }),
      runQuery({ ...spec, calculations: [{ op: "COUNT" }], filters: [{ column: "error", op: "=", value: true }] }),
    ]);
  } catch (e) {
    // The aggregate API is missing or failed: show what /api/v1/services knows.
    const note =
      e instanceof ApiError && e.status === 404
        ? "This server has no aggregate query API (POST /api/v1/query), so only totals are shown."
        : `The aggregate query failed: ${(e as Error).message}`;
    body.replaceChildren(
      h("p", { class: "muted" }, note),
      h(
        "table",
        { class: "grid services" },
        h("thead", null, h("tr", null, h("th", null, "Service"), h("th", { class: "num" }, "Spans"), h("th", { class: "num" }, "Errors"))),
        h(
          "tbody",
          null,
          services.map((s) =>
            h(
              "tr",
              null,
              h("td", null, h("span", { class: "dot", style: { background: serviceColor(s.name) } }), link(`/traces?service=${encodeURIComponent(s.name)}`, s.name)),
              h("td", { class: "num" }, formatNumber(s.span_count)),
              h("td", { class: "num" }, formatNumber(s.error_count)),
            ),
          ),
        ),
      ),
    );
    return;
  }

  const times: number[] = [];
  for (let t = Math.floor(start / granularity) * granularity; t < end; t += granularity) times.push(t);
  const slot = new Map(times.map((t, i) => [t, i]));
  const rows = new Map<string, Row>();
  const row = (name: string): Row => {
    let r = rows.get(name);
    if (!r) {
      r = {
        name,
        count: 0,
        errors: 0,
        p50: null,
        p99: null,
        countSeries: times.map(() => 0),
        errorSeries: times.map(() => 0),
        p99Series: times.map(() => null),
      };
      rows.set(name, r);
    }
    return r;
  };
  for (const s of services) row(s.name);
  for (const r of all.data.results) {
    const x = row(String(r.data["service.name"] ?? "(none)"));
    x.count = num(r.data["COUNT"]) ?? 0;
    x.p50 = num(r.data["P50(duration_ms)"]);
    x.p99 = num(r.data["P99(duration_ms)"]);
  }
  for (const r of errs.data.results) row(String(r.data["service.name"] ?? "(none)")).errors = num(r.data["COUNT"]) ?? 0;
  const slotOf = (time: string) => {
    const t = Math.floor(Date.parse(time) / 1000);
    return slot.get(Math.floor(t / granularity) * granularity);
  };
  for (const p of all.data.series) {
    const i = slotOf(p.time);
    if (i === undefined) continue;
    const x = row(String(p.data["service.name"] ?? "(none)"));
    x.countSeries[i] = num(p.data["COUNT"]) ?? 0;
    x.p99Series[i] = num(p.data["P99(duration_ms)"]);
  }
  for (const p of errs.data.series) {
    const i = slotOf(p.time);
    if (i === undefined) continue;
    row(String(p.data["service.name"] ?? "(none)")).errorSeries[i] = num(p.data["COUNT"]) ?? 0;
  }

  const requests = await graphNodes;
  const seconds = end - start;
  const sorted = [...rows.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const cleanups: (() => void)[] = [];
  ctx.onLeave(() => cleanups.forEach((f) => f()));
  const tbody = h("tbody");
  for (const r of sorted) {
    const color = serviceColor(r.name);
    const sparkCell = (values: (number | null)[], c: string, what: string) => {
      const cell = h("div", { class: "spark-cell", role: "img", "aria-label": `${r.name}: ${what}`, title: what });
      if (r.count > 0) requestAnimationFrame(() => cleanups.push(sparkline(cell, times, values, c)));
      return cell;
    };
    const errorRate = r.count > 0 ? r.errors / r.count : 0;
    const queryLink = (() => {
      const st = defaultState();
      st.calcs = [{ op: "COUNT" }, { op: "P99", column: "duration_ms" }, { op: "HEATMAP", column: "duration_ms" }];
      st.filters = [{ column: "service.name", op: "=", value: r.name }];
      st.breakdowns = ["name"];
      st.range = seconds;
      return `/query?${stateToParams(st)}`;
    })();
    tbody.appendChild(
      h(
        "tr",
        { "data-service": r.name },
        h(
          "td",
          { class: "svc" },
          h("span", { class: "dot", style: { background: color } }),
          link(`/traces?service=${encodeURIComponent(r.name)}`, r.name),
        ),
        h("td", { class: "num" }, r.count ? formatRate(r.count / seconds) : "–", h("div", { class: "sub" }, `${formatNumber(r.count)} spans`)),
        h("td", null, sparkCell(r.countSeries, "#3b6fd4", "spans over time")),
        h(
          "td",
          { class: "num" + (errorRate > 0.05 ? " bad" : errorRate > 0 ? " warn" : ""), "data-col": "span-errors" },
          r.count ? formatPercent(errorRate) : "–",
          h("div", { class: "sub" }, `${formatNumber(r.errors)} errors`),
        ),
        h("td", null, sparkCell(r.errorSeries, "#d62839", "spans with errors over time")),
        requestErrorCell(requests.get(r.name)),
        h("td", { class: "num" }, r.p50 === null ? "–" : formatDuration(r.p50)),
        h("td", { class: "num" }, r.p99 === null ? "–" : formatDuration(r.p99)),
        h("td", null, sparkCell(r.p99Series, "#945ecf", "P99 duration over time")),
        h("td", { class: "actions" }, link(`/traces?service=${encodeURIComponent(r.name)}`, "Traces"), " · ", link(queryLink, "Query")),
      ),
    );
  }
  body.replaceChildren(
    h(
      "table",
      { class: "grid services" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", null, "Service"),
          h("th", { class: "num" }, "Rate"),
          h("th", null, "Spans over time"),
          h("th", { class: "num", title: "Share of all this service's spans that have error status" }, "Span errors"),
          h("th", null, "Span errors over time"),
          h("th", { class: "num", title: "Share of the requests this service received (server, consumer and root spans) that failed — the service map's error rate" }, "Request errors"),
          h("th", { class: "num" }, "P50"),
          h("th", { class: "num" }, "P99"),
          h("th", null, "P99 over time"),
          h("th", { class: "actions", "data-col": "open" }, "Open"),
        ),
      ),
      tbody,
    ),
    h(
      "p",
      { class: "muted small" },
      `Over ${formatNumber(seconds / 60)} minutes, ${granularity}s buckets; rate and percentiles over all spans of each service. ` +
        "Span errors: spans with error status among all the service's spans. Request errors: failed requests among those the service received (server, consumer and root spans), the same measure as the service map.",
    ),
  );
}

function requestErrorCell(n: GraphNode | undefined): HTMLElement {
  if (!n || n.request_count === 0) return h("td", { class: "num", "data-col": "request-errors" }, "–");
  const rate = n.error_count / n.request_count;
  return h(
    "td",
    { class: "num" + (rate > 0.05 ? " bad" : rate > 0 ? " warn" : ""), "data-col": "request-errors" },
    formatPercent(rate),
    h("div", { class: "sub" }, `${formatNumber(n.error_count)} of ${formatNumber(n.request_count)} requests`),
  );
}

export function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.01 && rate > 0 ? 2 : 1)}%`;
}
