// Trace search: service, span name, attributes, duration and errors (pre-filled from the URL:
// /traces?service=cart&name=GET%20/&attr.http.route=/cart&min_duration=250ms&error=true&range=3600),
// plus the query page's filters (`where=COLUMN OP VALUE`, repeated) and an absolute window
// (`start`/`end`, Unix seconds) when it comes from a query and its selection,
// a duration-over-time scatter plot, and the list; a dot or a row opens the trace.
import { ApiError, listServices, searchTraces, type TraceSummary } from "../api";
import { scatterChart } from "../components/charts";
import { sendDataHelp } from "../components/empty";
import { PRESETS } from "../components/timepicker";
import { formatDuration, formatNumber, formatTime, h, link, serviceColor } from "../dom";
import { formatFilter, parseFilter } from "../lib/queryUrl";
import type { PageContext } from "../main";
import { navigate } from "../nav";

const TRACE_ID = /^([0-9a-f]{32}|1-[0-9a-f]{8}-[0-9a-f]{24})$/i;

export async function render(ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const range = Number(q.get("range")) || 3600;
  const whereFilters = q.getAll("where").map(parseFilter).filter((f) => f !== null);
  const absStart = Number(q.get("start"));
  const absEnd = Number(q.get("end"));
  const absolute = absStart > 0 && absEnd > absStart;
  const service = h("select", { name: "service", "aria-label": "Service" }, h("option", { value: "" }, "All services"));
  const name = h("input", { name: "name", type: "text", placeholder: "span name, e.g. GET /cart", value: q.get("name") ?? "" });
  const attrs = h("input", {
    name: "attrs",
    type: "text",
    placeholder: "http.route=/cart user.id=42",
    value: [...q.entries()].filter(([k]) => k.startsWith("attr.")).map(([k, v]) => `${k.slice(5)}=${v}`).join(" "),
  });
  const minD = h("input", { name: "min_duration", type: "text", placeholder: "e.g. 250ms", value: q.get("min_duration") ?? "", size: 8 });
  const maxD = h("input", { name: "max_duration", type: "text", placeholder: "e.g. 2s", value: q.get("max_duration") ?? "", size: 8 });
  const errors = h("input", { name: "error", type: "checkbox", checked: q.get("error") === "true" });
  const rangeSel = h(
    "select",
    { name: "range", "aria-label": "Time range" },
    absolute ? h("option", { value: "custom", selected: true }, `${formatTime(absStart * 1000)} → ${formatTime(absEnd * 1000)}`) : null,
    PRESETS.map(([s, label]) => h("option", { value: String(s), selected: !absolute && s === range }, label)),
  );
  // The query's filters, kept by a new search until removed.
  let keptWhere = q.getAll("where").filter((w) => parseFilter(w) !== null);
  const whereChips = h("div", { class: "chips where-chips", "data-testid": "trace-filters" });
  const drawWhere = () =>
    whereChips.replaceChildren(
      h("span", { class: "clause-title" }, "QUERY FILTERS"),
      ...keptWhere.map((w, i) =>
        h(
          "span",
          { class: "chip" },
          formatFilter(parseFilter(w)!),
          h("button", { type: "button", class: "chip-x", title: "Remove", onclick: () => {
            keptWhere = keptWhere.filter((_, k) => k !== i);
            drawWhere();
          } }, "×"),
        ),
      ),
    );
  drawWhere();
  const limit = h("input", { name: "limit", type: "number", min: 1, max: 1000, value: q.get("limit") ?? "100", size: 5 });
  const idBox = h("input", { type: "text", placeholder: "Open a trace by id (32 hex or 1-…)", class: "trace-id-input", spellcheck: "false" });
  idBox.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && TRACE_ID.test(idBox.value.trim())) navigate(`/traces/${idBox.value.trim()}`);
  });

  const form = h(
    "form",
    { class: "search-form" },
    h("label", null, "Service", service),
    h("label", null, "Span name", name),
    h("label", { class: "wide" }, "Attributes", attrs),
    h("label", null, "Min duration", minD),
    h("label", null, "Max duration", maxD),
    h("label", { class: "check" }, errors, " only with errors"),
    h("label", null, "Time", rangeSel),
    h("label", null, "Limit", limit),
    h("button", { type: "submit", class: "primary" }, "Search"),
    keptWhere.length ? whereChips : null,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (service.value) p.set("service", service.value);
    if (name.value.trim()) p.set("name", name.value.trim());
    for (const pair of attrs.value.trim().split(/\s+/)) {
      const eq = pair.indexOf("=");
      if (eq > 0) p.append(`attr.${pair.slice(0, eq)}`, pair.slice(eq + 1));
    }
    if (minD.value.trim()) p.set("min_duration", minD.value.trim());
    if (maxD.value.trim()) p.set("max_duration", maxD.value.trim());
    if (errors.checked) p.set("error", "true");
    for (const w of keptWhere) p.append("where", w);
    if (rangeSel.value === "custom") {
      p.set("start", String(absStart));
      p.set("end", String(absEnd));
    } else if (rangeSel.value !== "3600") p.set("range", rangeSel.value);
    if (limit.value && limit.value !== "100") p.set("limit", limit.value);
    navigate(`/traces?${p}`);
  });

  const chart = h("div", { class: "chart scatter", "data-testid": "scatter" });
  const list = h("div", null, h("p", { class: "muted loading" }, "Searching…"));
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, "Traces"), idBox), form, chart, list);

  listServices()
    .then(({ services }) => {
      const names = [...new Set(services.map((s) => s.name))].sort();
      const want = q.get("service") ?? "";
      if (want && !names.includes(want)) names.unshift(want);
      for (const n of names) service.appendChild(h("option", { value: n, selected: n === want }, n));
    })
    .catch(() => {});

  const now = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams();
  for (const [k, v] of q.entries()) if (!["range", "where", "start", "end"].includes(k)) params.append(k, v);
  if (whereFilters.length) params.set("filters", JSON.stringify(whereFilters));
  params.set("start", String(absolute ? absStart : now - range));
  params.set("end", String(absolute ? absEnd : now + 60));
  if (!params.has("limit")) params.set("limit", "100");
  let traces: TraceSummary[];
  try {
    traces = (await searchTraces(params)).traces;
  } catch (e) {
    const msg =
      e instanceof ApiError && e.status === 404
        ? "This server does not offer trace search (GET /api/v1/traces) yet. You can still open a trace by its id above."
        : `Search failed: ${(e as Error).message}`;
    list.replaceChildren(h("div", { class: "error-box" }, msg));
    chart.remove();
    return;
  }
  if (traces.length === 0) {
    chart.remove();
    const anyFilter = [...q.keys()].some((k) => k !== "range");
    list.replaceChildren(
      anyFilter
        ? h("p", { class: "empty-note" }, "No trace matches this search in the chosen time range. Widen the time range or remove a condition.")
        : sendDataHelp("No traces in this time range"),
    );
    return;
  }
  const toMs = (ns: string) => Number(BigInt(ns) / 1000000n);
  const cleanups: (() => void)[] = [];
  ctx.onLeave(() => cleanups.forEach((f) => f()));
  requestAnimationFrame(() =>
    cleanups.push(
      scatterChart(
        chart,
        traces.map((t) => ({ time: toMs(t.start_time_unix_nano) / 1000, value: Math.max(t.duration_ms, 0.001), error: t.error_count > 0, id: t.trace_id })),
        { onClick: (p) => navigate(`/traces/${p.id}`), range: absolute ? [absStart, absEnd] : [now - range, now] },
      ),
    ),
  );
  list.replaceChildren(
    h("p", { class: "muted small" }, `${traces.length} trace${traces.length === 1 ? "" : "s"}, newest first`),
    h(
      "table",
      { class: "grid traces-table", "data-testid": "traces" },
      h(
        "thead",
        null,
        h("tr", null, h("th", null, "Start"), h("th", null, "Root"), h("th", null, "Services"), h("th", { class: "num" }, "Spans"), h("th", { class: "num" }, "Errors"), h("th", { class: "num" }, "Duration"), h("th", null, "Trace id")),
      ),
      h(
        "tbody",
        null,
        traces.map((t) => {
          const tr = h(
            "tr",
            { class: "clickable" + (t.error_count ? " has-error" : ""), "data-trace": t.trace_id },
            h("td", { class: "nowrap" }, formatTime(toMs(t.start_time_unix_nano))),
            h("td", null, h("span", { class: "dot", style: { background: serviceColor(t.root_service) } }), h("b", null, t.root_service), " ", t.root_name),
            h("td", null, t.services.map((s) => h("span", { class: "tag", style: { borderColor: serviceColor(s) } }, s))),
            h("td", { class: "num" }, formatNumber(t.span_count)),
            h("td", { class: "num" + (t.error_count ? " bad" : "") }, formatNumber(t.error_count)),
            h("td", { class: "num" }, formatDuration(t.duration_ms)),
            h("td", { class: "mono" }, link(`/traces/${t.trace_id}`, t.trace_id.slice(0, 16) + "…")),
          );
          tr.addEventListener("click", (e) => {
            if ((e.target as Element).closest("a")) return;
            navigate(`/traces/${t.trace_id}`);
          });
          return tr;
        }),
      ),
    ),
  );
}
