// Trace search: service, span name, attributes, duration and errors (pre-filled from the URL:
// /traces?service=cart&name=GET%20/&attr.http.route=/cart&min_duration=250ms&error=true&range=3600),
// plus the query page's filters (`where=COLUMN OP VALUE`, repeated), an X-Ray group
// (`group=NAME`) or X-Ray filter expression (`xray_filter=…`), and a time range: a preset
// (`range`, seconds) or a custom one (`start`/`end`, Unix seconds: the time picker, a drag across
// the scatter plot, or a query's selection). A duration-over-time scatter plot and the list
// (sortable: `sort=start|duration|spans|errors&dir=asc|desc`, newest first by default); a dot or
// a row opens the trace.
import { ApiError, listServices, searchTraces, type TraceSummary } from "../api";
import { scatterChart } from "../components/charts";
import { sendDataHelp } from "../components/empty";
import { timePicker } from "../components/timepicker";
import { traceList } from "../components/traceList";
import { xrayScopeControl } from "../components/xrayScope";
import { h } from "../dom";
import { formatFilter, parseFilter } from "../lib/queryUrl";
import { traceViewHref } from "../lib/traceLinks";
import { DEFAULT_SORT, parseSort } from "../lib/traceSort";
import { listGroups, resolveScope } from "../lib/xrayGroups";
import type { PageContext } from "../main";
import { navigate, setUrl } from "../nav";

const TRACE_ID = /^([0-9a-f]{32}|1-[0-9a-f]{8}-[0-9a-f]{24})$/i;

export async function render(ctx: PageContext): Promise<void> {
  const q = ctx.query;
  const range = Number(q.get("range")) || 3600;
  const whereFilters = q.getAll("where").map(parseFilter).filter((f) => f !== null);
  const absStart = Number(q.get("start"));
  const absEnd = Number(q.get("end"));
  const absolute = absStart > 0 && absEnd > absStart;
  // Navigates to this page with some parameters changed (the others kept).
  const withParams = (patch: Record<string, string | undefined>) => {
    const p = new URLSearchParams(location.search); // includes a sort chosen since the page loaded
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined || v === "") p.delete(k);
      else p.set(k, v);
    }
    navigate(`/traces?${p}`);
  };
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
  // Time: a preset or a custom range; a change searches at once.
  const picker = timePicker(absolute ? { range: absEnd - absStart, start: absStart, end: absEnd } : { range }, (v) =>
    withParams(v.start !== undefined && v.end !== undefined ? { start: String(v.start), end: String(v.end), range: undefined } : { range: v.range === 3600 ? undefined : String(v.range), start: undefined, end: undefined }),
  );
  picker.dataset.testid = "traces-time";
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
  const idBox = h("input", { type: "text", placeholder: "Open a trace by id (32 hex or 1-…)", class: "trace-id-input", spellcheck: "false", "aria-label": "Trace id" });
  idBox.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && TRACE_ID.test(idBox.value.trim())) navigate(`/traces/${idBox.value.trim()}`);
  });

  // X-Ray group or filter expression.
  const groups = listGroups();
  const scope = await resolveScope(q.get("group"), q.get("xray_filter"), groups);
  const scopeControl = xrayScopeControl(scope, groups, (s) => withParams({ group: s.group, xray_filter: s.expression }));

  const form = h(
    "form",
    { class: "search-form" },
    h("label", null, "Service", service),
    h("label", null, "Span name", name),
    h("label", { class: "wide" }, "Attributes", attrs),
    h("label", null, "Min duration", minD),
    h("label", null, "Max duration", maxD),
    h("label", { class: "check" }, errors, " only with errors"),
    h("label", null, "Time", picker),
    h("label", null, "Limit", limit),
    h("button", { type: "submit", class: "primary" }, "Search"),
    scopeControl,
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
    const current = new URLSearchParams(location.search);
    for (const k of ["start", "end", "range", "group", "xray_filter", "sort", "dir"]) {
      const v = current.get(k);
      if (v && !(k === "range" && absolute)) p.set(k, v);
    }
    if (limit.value && limit.value !== "100") p.set("limit", limit.value);
    navigate(`/traces?${p}`);
  });

  const chart = h("div", { class: "chart scatter", "data-testid": "scatter" });
  const list = h("div", null, h("p", { class: "muted loading" }, "Searching…"));
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, scope.group ? `Traces of group ${scope.group}` : "Traces"), idBox), form, chart, list);

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
  const pageOnly = ["range", "where", "start", "end", "group", "xray_filter", "sort", "dir"];
  for (const [k, v] of q.entries()) if (!pageOnly.includes(k)) params.append(k, v);
  if (whereFilters.length) params.set("filters", JSON.stringify(whereFilters));
  if (scope.expression) params.set("xray_filter", scope.expression);
  const winStart = absolute ? absStart : now - range;
  const winEnd = absolute ? absEnd : now + 60;
  params.set("start", String(winStart));
  params.set("end", String(winEnd));
  if (!params.has("limit")) params.set("limit", "100");
  let traces: TraceSummary[];
  if (scope.unknownGroup) {
    chart.remove();
    list.replaceChildren(h("div", { class: "error-box" }, `There is no X-Ray group named "${scope.group}". `, h("a", { href: "/xray/groups", "data-link": true }, "See the groups"), "."));
    return;
  }
  try {
    traces = (await searchTraces(params)).traces;
  } catch (e) {
    const msg =
      e instanceof ApiError && e.status === 404
        ? "This server does not offer trace search (GET /api/v1/traces) yet. You can still open a trace by its id above."
        : `Search failed: ${(e as Error).message}`;
    list.replaceChildren(h("div", { class: "error-box", "data-testid": "search-error" }, msg));
    chart.remove();
    return;
  }
  if (traces.length === 0) {
    chart.remove();
    const anyFilter = [...q.keys()].some((k) => k !== "range");
    list.replaceChildren(
      anyFilter
        ? h("p", { class: "empty-note", "data-testid": "traces-empty" }, "No trace matches this search in the chosen time range. Widen the time range or remove a condition.")
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
        {
          onClick: (p) => {
            const t = traces.find((x) => x.trace_id === p.id);
            navigate(traceViewHref(t ?? { trace_id: p.id }));
          },
          range: [winStart, absolute ? absEnd : now],
          // A drag across the plot searches that time range.
          onRange: (a, b) => withParams({ start: String(Math.floor(a)), end: String(Math.ceil(b)), range: undefined }),
        },
      ),
    ),
  );
  const sort = parseSort(q);
  list.replaceChildren(
    traceList(traces, {
      testid: "traces",
      sort,
      onSort: (s) => {
        const p = new URLSearchParams(location.search);
        if (s.key === DEFAULT_SORT.key && s.dir === DEFAULT_SORT.dir) {
          p.delete("sort");
          p.delete("dir");
        } else {
          p.set("sort", s.key);
          p.set("dir", s.dir);
        }
        const qs = p.toString();
        setUrl(`/traces${qs ? `?${qs}` : ""}`, true);
      },
    }),
  );
}
