// The query builder (Honeycomb-like): VISUALIZE / WHERE / GROUP BY / ORDER BY / LIMIT / HAVING with
// column autocomplete, a time picker, a line chart per calculation with one line per group,
// HEATMAP rendering with BubbleUp on a selected region, and the results table. The whole query
// lives in the URL's query string.
import {
  ApiError,
  bubbleUp,
  listColumns,
  runQuery,
  searchTraces,
  type Column,
  type QueryResponse,
  type ResultData,
  type TraceSummary,
} from "../api";
import {
  heatmapChart,
  lineChart,
  type HeatmapData,
  type HeatmapSelection,
  type LineSeries,
} from "../components/charts";
import { sendDataHelp } from "../components/empty";
import { traceList } from "../components/traceList";
import { timePicker } from "../components/timepicker";
import { fill, formatDuration, formatNumber, formatTime, h } from "../dom";
import { rankBubbleUp } from "../lib/bubbleup";
import {
  CALC_OPS,
  FILTER_OPS,
  NO_COLUMN_OPS,
  calcLabel,
  formatFilter,
  formatHaving,
  formatOrder,
  paramsToState,
  parseCalc,
  parseFilter,
  parseHaving,
  parseOrder,
  stateToParams,
  stateToSpec,
  zoomState,
  type QueryState,
} from "../lib/queryUrl";
import {
  describeSelection,
  traceQuery,
  traceSearchParams,
  tracesPageHref,
  type Selection,
} from "../lib/traceLinks";
import { ColumnCatalog, checkCalc, checkColumn, checkFilter, clauseOfError } from "../lib/validate";
import type { PageContext } from "../main";
import { navigate } from "../nav";

const MAX_LINES = 12;
const TABLE_PAGE = 500;

function groupKey(data: ResultData, breakdowns: string[]): string {
  return breakdowns.map((b) => String(data[b] ?? "(none)")).join(" · ") || "all";
}

// A message from the server about one clause (and which of its chips, when it says).
interface ClauseError {
  clause: string;
  index: number;
  message: string;
}

// A clause row: chips for its items and an input (with autocomplete) to add one. What the user
// types is checked as they type (`check`: the column catalog and types); an item that fails is
// not added, and the message stays next to the field.
function clause<T>(
  title: string,
  items: T[],
  format: (t: T) => string,
  parse: (text: string) => T | null,
  suggestions: string[],
  placeholder: string,
  onChange: (items: T[]) => void,
  hint: string,
  check: (t: T) => string | null = () => null,
  serverError?: ClauseError,
): HTMLElement {
  const listId = `dl-${title.replace(/\W/g, "")}`;
  const input = h("input", {
    type: "text",
    placeholder,
    list: listId,
    "aria-label": `${title} — add`,
    "data-clause": title,
    spellcheck: "false",
  });
  const error = h("span", { class: "clause-error", "data-testid": "clause-error", "data-clause": title, role: "alert" });
  const showError = (message: string) => {
    error.textContent = message;
    input.classList.toggle("invalid", message !== "");
  };
  // Chips that came from the URL are checked too, once the catalog is loaded.
  const chipProblems = items.map((item, i) => (serverError?.index === i ? serverError.message : check(item)));
  const firstProblem = serverError?.message ?? chipProblems.find((p) => p !== null);
  if (firstProblem) error.textContent = firstProblem;
  const add = () => {
    const text = input.value.trim();
    if (!text) return;
    const parsed = parse(text);
    if (parsed === null) {
      showError(hint);
      return;
    }
    const problem = check(parsed);
    if (problem) {
      showError(problem);
      return;
    }
    showError("");
    input.value = "";
    onChange([...items, parsed]);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const text = input.value.trim();
      const parsed = text ? parse(text) : null;
      // Half-typed text is not an error yet; a complete item that cannot work is.
      showError(parsed === null ? "" : (check(parsed) ?? ""));
    }, 150);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !(e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      add();
    } else if (e.key === "Backspace" && input.value === "" && items.length) {
      onChange(items.slice(0, -1));
    }
  });
  input.addEventListener("change", () => {
    // Picking a complete suggestion adds it at once.
    if (parse(input.value.trim()) !== null && suggestions.includes(input.value)) add();
  });
  return h(
    "div",
    { class: "clause" },
    h("label", { class: "clause-title" }, title),
    h(
      "div",
      { class: "chips" },
      items.map((item, i) =>
        h(
          "span",
          { class: "chip" + (chipProblems[i] ? " invalid" : ""), title: chipProblems[i] },
          format(item),
          h(
            "button",
            {
              type: "button",
              class: "chip-x",
              title: "Remove",
              onclick: () => onChange(items.filter((_, k) => k !== i)),
            },
            "×",
          ),
        ),
      ),
      input,
      h("datalist", { id: listId }, suggestions.map((s) => h("option", { value: s }))),
      error,
    ),
  );
}

export async function render(ctx: PageContext): Promise<void> {
  let state: QueryState = paramsToState(ctx.query);
  let columns: Column[] = [];
  let catalog: ColumnCatalog | null = null;
  let serverError: ClauseError | undefined;
  const builder = h("div", { class: "builder" });
  const results = h("div", { class: "results" });
  const cleanups: (() => void)[] = [];
  ctx.onLeave(() => cleanups.splice(0).forEach((f) => f()));
  ctx.onLeave(() => bubbleAbort?.abort());
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, "Query")), builder, results);

  const go = () => navigate(`/query?${stateToParams(state)}`);
  const update = (s: Partial<QueryState>) => {
    state = { ...state, ...s };
    serverError = undefined;
    drawBuilder();
  };
  // Checks against the catalog once it is loaded (until then the server checks on Run).
  const checked =
    <T,>(fn: (t: T, c: ColumnCatalog) => string | null) =>
    (t: T) =>
      catalog ? fn(t, catalog) : null;
  const errorFor = (title: string) => (serverError?.clause === title ? serverError : undefined);
  builder.addEventListener("keydown", (e) => {
    // Ctrl+Enter (⌘+Enter) runs the query from any field.
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      go();
    }
  });

  const drawBuilder = () => {
    const names = columns.map((c) => c.name);
    const numeric = columns.filter((c) => c.type === "int" || c.type === "double" || c.type === "mixed").map((c) => c.name);
    if (!numeric.includes("duration_ms")) numeric.unshift("duration_ms");
    const calcSuggestions = [
      "COUNT",
      "CONCURRENCY",
      ...numeric.flatMap((c) => ["P50", "P95", "P99", "AVG", "MAX", "SUM", "HEATMAP"].map((op) => `${op}(${c})`)),
      ...names.map((c) => `COUNT_DISTINCT(${c})`),
    ];
    const whereSuggestions = names.flatMap((c) => [`${c} = `, `${c} exists`]);
    const orderSuggestions = [
      ...state.calcs.filter((c) => c.op !== "HEATMAP").flatMap((c) => [`${calcLabel(c)} desc`, `${calcLabel(c)} asc`]),
      ...state.breakdowns.flatMap((b) => [`${b} asc`, `${b} desc`]),
    ];
    const havingSuggestions = state.calcs.filter((c) => c.op !== "HEATMAP").map((c) => `${calcLabel(c)} > `);
    const limit = h("input", {
      type: "number",
      min: 1,
      max: 10000,
      value: state.limit ?? "",
      placeholder: "1000",
      "aria-label": "Limit",
      class: "limit",
    });
    limit.addEventListener("change", () => {
      const n = Number(limit.value);
      state = { ...state, limit: limit.value === "" || !(n > 0) ? undefined : Math.min(10000, Math.floor(n)) };
    });
    const combine = h(
      "select",
      { "aria-label": "Combine filters", class: "combine" },
      h("option", { value: "AND", selected: state.combine === "AND" }, "all (AND)"),
      h("option", { value: "OR", selected: state.combine === "OR" }, "any (OR)"),
    );
    combine.addEventListener("change", () => (state = { ...state, combine: combine.value as "AND" | "OR" }));
    const runButton = h("button", { type: "button", class: "primary run", onclick: go }, "Run query");
    builder.replaceChildren(
      h(
        "div",
        { class: "builder-grid" },
        clause("VISUALIZE", state.calcs, calcLabel, (t) => {
          const c = parseCalc(t);
          if (!c || !(CALC_OPS.includes(c.op) || /^P\d{2,3}$/.test(c.op))) return null;
          if (!NO_COLUMN_OPS.has(c.op) && !c.column) return null;
          return c;
        }, calcSuggestions, "COUNT, P99(duration_ms), HEATMAP(duration_ms)…", (calcs) => update({ calcs: calcs.length ? calcs : [{ op: "COUNT" }] }), "use OP or OP(column), e.g. P99(duration_ms)", checked(checkCalc), errorFor("VISUALIZE")),
        clause("WHERE", state.filters, formatFilter, parseFilter, whereSuggestions, "service.name = cart", (filters) => update({ filters }), `use "column op value"; op is one of ${FILTER_OPS.join(" ")}`, checked(checkFilter), errorFor("WHERE")),
        clause("GROUP BY", state.breakdowns, (b) => b, (t) => (t.includes(" ") ? null : t), names, "service.name", (breakdowns) => update({ breakdowns }), "a column name", checked(checkColumn), errorFor("GROUP BY")),
        clause("ORDER BY", state.orders, formatOrder, (t) => parseOrder(t, state.breakdowns), orderSuggestions, "COUNT desc", (orders) => update({ orders }), "a calculation or a GROUP BY column, then asc or desc", () => null, errorFor("ORDER BY")),
        clause("HAVING", state.havings, formatHaving, parseHaving, havingSuggestions, "COUNT > 10", (havings) => update({ havings }), "a calculation, a comparison and a number, e.g. COUNT > 10", () => null, errorFor("HAVING")),
      ),
      h(
        "div",
        { class: "builder-bar" },
        h("label", null, "Filters match ", combine),
        h("label", null, "LIMIT ", limit),
        timePicker(state, (v) => {
          state = { ...state, range: v.range, start: v.start, end: v.end };
          go();
        }),
        runButton,
      ),
    );
  };
  drawBuilder();
  listColumns()
    .then((r) => {
      columns = r.columns ?? [];
      catalog = new ColumnCatalog(columns);
      drawBuilder();
    })
    .catch(() => {
      /* autocomplete is optional */
    });

  results.replaceChildren(h("p", { class: "muted loading" }, "Running…"));
  const spec = stateToSpec(state);
  let response: QueryResponse;
  const t0 = performance.now();
  try {
    response = await runQuery(spec);
  } catch (e) {
    const message = (e as Error).message;
    // A 400 about one clause: the message goes next to that field, and its chip turns red.
    const where = e instanceof ApiError && e.status === 400 ? clauseOfError(message) : null;
    if (where) {
      serverError = { ...where, message };
      drawBuilder();
    }
    results.replaceChildren(h("div", { class: "error-box", "data-testid": "query-error" }, `Query failed: ${message}`));
    return;
  }
  const elapsed = performance.now() - t0;
  drawResults(results, state, response, elapsed, cleanups);
}

function drawResults(
  el: HTMLElement,
  state: QueryState,
  response: QueryResponse,
  elapsed: number,
  cleanups: (() => void)[],
): void {
  const { results, series } = response.data;
  const meta = response.meta;
  const breakdowns = state.breakdowns;
  const gran = meta.granularity || 60;
  const times: number[] = [];
  for (let t = Math.floor(meta.start_time / gran) * gran; t < meta.end_time; t += gran) times.push(t);
  const slot = new Map(times.map((t, i) => [t, i]));
  const slotOf = (time: string) => slot.get(Math.floor(Date.parse(time) / 1000 / gran) * gran);

  el.replaceChildren();
  el.appendChild(
    h(
      "p",
      { class: "muted small meta" },
      `${formatNumber(results.length)} group${results.length === 1 ? "" : "s"} · ${formatNumber(meta.spans_matched ?? 0)} of ${formatNumber(
        meta.spans_scanned ?? 0,
      )} spans matched · ${formatTime(meta.start_time * 1000)} → ${formatTime(meta.end_time * 1000)} · ${gran}s buckets · ${Math.round(elapsed)} ms`,
    ),
  );
  if ((meta.spans_scanned ?? 1) === 0 && results.length === 0) {
    el.appendChild(sendDataHelp("No spans in this time range"));
    return;
  }

  // The query's window as the server ran it: selections and trace lists stay inside it.
  const ranState: QueryState = { ...state, start: meta.start_time, end: meta.end_time };
  const tabs = resultTabs(ranState, response);
  const groupOf = (data: ResultData) => Object.fromEntries(breakdowns.map((b) => [b, data[b] ?? null]));

  const groups = results.map((r) => groupKey(r.data, breakdowns));
  const shown = groups.slice(0, MAX_LINES);
  const groupIndex = new Map(shown.map((g, i) => [g, i]));
  for (const calc of state.calcs) {
    const label = calcLabel(calc);
    const box = h("div", { class: "chart-box" }, h("h3", null, label, calc.op === "HEATMAP" ? null : h("span", { class: "chart-hint" }, " · drag across to query that time range")));
    el.appendChild(box);
    const chartEl = h("div", { class: "chart", "data-calc": label });
    box.appendChild(chartEl);
    if (calc.op === "HEATMAP") {
      // Merge the groups' buckets per time slot.
      const cells: HeatmapData["cells"] = times.map(() => []);
      const merged = times.map(() => new Map<string, { lower: number; upper: number; count: number }>());
      for (const p of series) {
        const i = slotOf(p.time);
        const hv = p.data[label] as { buckets?: { lower: number; upper: number; count: number }[] } | undefined;
        if (i === undefined || !hv?.buckets) continue;
        for (const b of hv.buckets) {
          const key = `${b.lower}:${b.upper}`;
          const cur = merged[i].get(key);
          if (cur) cur.count += b.count;
          else merged[i].set(key, { ...b });
        }
      }
      merged.forEach((m, i) => (cells[i] = [...m.values()]));
      const bubble = h("div", { class: "bubbleup" });
      const column = calc.column ?? "duration_ms";
      box.appendChild(
        h(
          "p",
          { class: "muted small" },
          "Drag across the heatmap to select a region (e.g. the slow band) and see what is different about it — BubbleUp — and its traces below. Click a cell for its traces.",
        ),
      );
      // The dragged time range can become the query's (as a drag on a line chart does at once).
      const selBar = h("div", { class: "sel-bar small", hidden: true });
      box.appendChild(selBar);
      box.appendChild(bubble);
      const showSelBar = (sel: HeatmapSelection) => {
        selBar.hidden = false;
        selBar.replaceChildren(
          h("span", { class: "muted" }, `Selected ${formatTime(sel.startTime * 1000)} → ${formatTime(sel.endTime * 1000)} · `),
          h("a", { href: `/query?${stateToParams(zoomState(state, sel.startTime, sel.endTime))}`, "data-link": true, "data-testid": "heatmap-zoom" }, "Query this time range →"),
        );
      };
      const toSelection = (sel: HeatmapSelection): Selection => ({ kind: "heatmap", column, min: sel.min, max: sel.max, startTime: sel.startTime, endTime: sel.endTime });
      requestAnimationFrame(() =>
        cleanups.push(
          heatmapChart(chartEl, { times, step: gran, cells }, {
            column,
            onSelect: (sel) => {
              showSelBar(sel);
              tabs.select(toSelection(sel));
              void runBubbleUp(bubble, state, response, column, sel);
            },
            onCell: (sel) => tabs.select(toSelection(sel)),
          }),
        ),
      );
      continue;
    }
    const lines: LineSeries[] = shown.map((g) => ({ label: g, values: times.map(() => null) }));
    for (const p of series) {
      const i = slotOf(p.time);
      const gi = groupIndex.get(groupKey(p.data, breakdowns));
      if (i === undefined || gi === undefined) continue;
      const v = p.data[label];
      lines[gi].values[i] = typeof v === "number" ? v : null;
    }
    // COUNT-like calculations are zero, not missing, in empty buckets.
    if (calc.op === "COUNT" || calc.op === "SUM" || calc.op === "CONCURRENCY") {
      for (const l of lines) l.values = l.values.map((v) => v ?? 0);
    }
    const isDuration = calc.column === "duration_ms" && calc.op !== "COUNT_DISTINCT";
    requestAnimationFrame(() =>
      cleanups.push(
        lineChart(chartEl, times, lines, {
          yFormat: isDuration ? formatDuration : undefined,
          onPoint: ({ time, series: gi }) =>
            tabs.select({ kind: "point", time, step: gran, group: groupOf(results[gi].data), label: shown[gi] }),
          // A drag runs the query over the dragged time range (and puts it in the URL).
          onRange: (a, b) => navigate(`/query?${stateToParams(zoomState(state, a, b))}`),
        }),
      ),
    );
  }
  if (groups.length > MAX_LINES) {
    el.appendChild(h("p", { class: "muted small" }, `Charts show the first ${MAX_LINES} of ${groups.length} groups.`));
  }
  el.appendChild(tabs.element);
  tabs.setTable(
    resultsTable(state, response, breakdowns.length ? (row) => tabs.select({ kind: "row", group: groupOf(row), label: groupKey(row, breakdowns) }) : undefined),
  );
}

// The tabs under the charts: the results table, and the traces behind the query or the current
// selection (a heatmap region or cell, a chart point, a results row), each opening its waterfall.
function resultTabs(state: QueryState, response: QueryResponse) {
  const tablePanel = h("div", { class: "tab-panel", "data-panel": "results" });
  const tracesPanel = h("div", { class: "tab-panel", "data-panel": "traces", hidden: true });
  const tabResults = h("button", { type: "button", class: "tab active", "data-tab": "results", role: "tab" }, "Results");
  const tabTraces = h("button", { type: "button", class: "tab", "data-tab": "traces", role: "tab" }, "Traces");
  let selection: Selection | null = null;
  let loaded = false;
  let seq = 0;
  const show = (which: "results" | "traces") => {
    tabResults.classList.toggle("active", which === "results");
    tabTraces.classList.toggle("active", which === "traces");
    tablePanel.hidden = which !== "results";
    tracesPanel.hidden = which !== "traces";
    if (which === "traces" && !loaded) void loadTraces();
  };
  tabResults.addEventListener("click", () => show("results"));
  tabTraces.addEventListener("click", () => show("traces"));
  const fmt = (v: number) => (selection?.kind === "heatmap" && selection.column === "duration_ms" ? formatDuration(v) : formatNumber(v));

  const loadTraces = async () => {
    loaded = true;
    const mine = ++seq;
    const q = traceQuery(state, selection, response.meta.end_time);
    tabTraces.textContent = selection ? "Traces (selection)" : "Traces";
    const head = h(
      "div",
      { class: "traces-head" },
      h(
        "span",
        { "data-testid": "traces-scope" },
        selection ? `Example traces in the selection: ${describeSelection(selection, fmt)}` : "Example traces matching the query's filters",
      ),
      selection
        ? h("button", { type: "button", class: "link-button", onclick: () => select(null) }, "Clear selection")
        : null,
      h("a", { href: tracesPageHref(q), "data-link": true, "data-testid": "open-traces-page" }, "Open in Traces page →"),
    );
    if (state.combine === "OR" && state.filters.length > 1) {
      tracesPanel.replaceChildren(head, h("p", { class: "empty-note" }, "Traces are searched with all filters (AND); this query combines them with OR."));
    } else {
      tracesPanel.replaceChildren(head, h("p", { class: "muted loading" }, "Searching traces…"));
    }
    let traces: TraceSummary[];
    try {
      traces = (await searchTraces(traceSearchParams(q, 50))).traces;
    } catch (e) {
      if (mine === seq) tracesPanel.replaceChildren(head, h("div", { class: "error-box" }, `Trace search failed: ${(e as Error).message}`));
      return;
    }
    if (mine !== seq) return;
    tracesPanel.replaceChildren(
      head,
      traces.length === 0
        ? h("p", { class: "empty-note", "data-testid": "query-traces-empty" }, "No trace has a span in this selection.")
        : traceList(traces, { testid: "query-traces" }),
    );
  };
  const select = (s: Selection | null) => {
    selection = s;
    loaded = false;
    show("traces");
    if (!tracesPanel.hidden) void loadTraces();
  };
  return {
    element: h(
      "div",
      { class: "table-box result-tabs" },
      h("div", { class: "tabs", role: "tablist" }, tabResults, tabTraces),
      tablePanel,
      tracesPanel,
    ),
    setTable: (table: HTMLElement) => tablePanel.replaceChildren(table),
    select,
  };
}

function cellText(v: unknown, column?: string): string {
  if (v && typeof v === "object" && "buckets" in (v as object)) {
    const b = (v as { buckets: { count: number }[] }).buckets;
    return `${formatNumber(b.reduce((a, x) => a + x.count, 0))} in ${b.length} buckets`;
  }
  if (typeof v === "number" && column === "duration_ms") return formatDuration(v);
  return formatNumber(v);
}

function resultsTable(state: QueryState, response: QueryResponse, onRow?: (data: ResultData) => void): HTMLElement {
  const calcs = state.calcs.map(calcLabel);
  const head = h(
    "tr",
    null,
    state.breakdowns.map((b) => h("th", null, b)),
    calcs.map((c) => h("th", { class: "num" }, c)),
  );
  const tbody = h("tbody");
  const rows = response.data.results;
  let shown = 0;
  const more = h("button", { type: "button", class: "more" });
  const addRows = () => {
    const frag = document.createDocumentFragment();
    const until = Math.min(rows.length, shown + TABLE_PAGE);
    for (; shown < until; shown++) {
      const d = rows[shown].data;
      const tr = h(
        "tr",
        onRow ? { class: "clickable", title: "Show this group's traces" } : null,
        state.breakdowns.map((b) => h("td", null, d[b] === null || d[b] === undefined ? h("span", { class: "muted" }, "(none)") : String(d[b]))),
        state.calcs.map((c, i) => h("td", { class: "num" }, cellText(d[calcs[i]], c.op === "COUNT" ? undefined : c.column))),
      );
      if (onRow) tr.addEventListener("click", () => onRow(d));
      frag.appendChild(tr);
    }
    tbody.appendChild(frag);
    more.hidden = shown >= rows.length;
    more.textContent = `Show ${Math.min(TABLE_PAGE, rows.length - shown)} more of ${formatNumber(rows.length - shown)}`;
  };
  more.addEventListener("click", addRows);
  addRows();
  const totals = response.data.totals;
  const foot = h(
    "tfoot",
    null,
    h(
      "tr",
      null,
      state.breakdowns.map((_, i) => h("td", null, i === 0 ? "Total" : "")),
      state.calcs.map((c, i) => h("td", { class: "num" }, cellText(totals?.[calcs[i]], c.op === "COUNT" ? undefined : c.column))),
    ),
  );
  return h(
    "div",
    null,
    onRow ? h("p", { class: "muted small" }, "Click a row, a chart point or a heatmap cell to see its traces.") : null,
    h("table", { class: "grid results-table", "data-testid": "results" }, h("thead", null, head), tbody, state.breakdowns.length ? foot : null),
    more,
  );
}

let bubbleAbort: AbortController | null = null;

async function runBubbleUp(
  el: HTMLElement,
  state: QueryState,
  response: QueryResponse,
  column: string,
  sel: HeatmapSelection,
): Promise<void> {
  // One BubbleUp at a time: a new selection (or leaving the page) aborts the one still running,
  // and closing its connection stops the server's work.
  bubbleAbort?.abort();
  const abort = new AbortController();
  bubbleAbort = abort;
  const t0 = performance.now();
  el.replaceChildren(
    h(
      "p",
      { class: "muted loading", "data-testid": "bubbleup-running" },
      "Comparing the selection with the baseline… ",
      h("button", { type: "button", class: "link-button", "data-testid": "bubbleup-cancel", onclick: () => abort.abort() }, "Cancel"),
    ),
  );
  const spec = stateToSpec(state);
  try {
    const r = await bubbleUp({
      start_time: response.meta.start_time,
      end_time: response.meta.end_time,
      filters: spec.filters,
      dataset: spec.dataset,
      selection: {
        column,
        min: sel.min,
        max: sel.max,
        start_time: Math.floor(sel.startTime),
        end_time: Math.ceil(sel.endTime),
      },
    }, abort.signal);
    const tookMs = Math.round(performance.now() - t0);
    const allRanked = rankBubbleUp(r, { excludeColumns: [column] });
    // Columns whose distribution is the same inside and outside the selection are only listed.
    const ranked = allRanked.filter((c) => c.score >= 0.01);
    const same = allRanked.filter((c) => c.score < 0.01).map((c) => c.column);
    const fmt = column === "duration_ms" ? formatDuration : formatNumber;
    fill(
      el,
      h(
        "div",
        { class: "bubble-head" },
        h("h3", null, "BubbleUp"),
        h(
          "span",
          { class: "muted small" },
          `Selection: ${column} ${fmt(sel.min)} – ${fmt(sel.max)}, ${formatTime(sel.startTime * 1000)} → ${formatTime(sel.endTime * 1000)} · ` +
            `${formatNumber(r.selection_count)} spans selected vs ${formatNumber(r.baseline_count)} baseline · ${tookMs} ms`,
        ),
        h("span", { class: "legend" }, h("i", { class: "sw sel" }), "selection ", h("i", { class: "sw base" }), "baseline"),
      ),
      ranked.length === 0
        ? h("p", { class: "muted" }, "No attribute differs between the selection and the baseline.")
        : h(
            "div",
            { class: "bubble-grid", "data-testid": "bubbleup" },
            ranked.slice(0, 24).map((c) =>
              h(
                "div",
                { class: "bubble-col" },
                h("div", { class: "bubble-title" }, h("b", null, c.column), h("span", { class: "score" }, `${Math.round(c.score * 100)}% different`)),
                c.values.map((v) => {
                  const filter = formatFilter({ column: c.column, op: "=", value: v.value });
                  const p = stateToParams({ ...state, filters: [...state.filters, parseFilter(filter)!] });
                  return h(
                    "div",
                    { class: "bubble-row", title: `selection ${(v.selection * 100).toFixed(1)}% · baseline ${(v.baseline * 100).toFixed(1)}%` },
                    h("a", { href: `/query?${p}`, "data-link": true, class: "bubble-val" }, v.value === null ? "(none)" : String(v.value)),
                    h(
                      "span",
                      { class: "bars" },
                      h("i", { class: "bar sel", style: { width: `${Math.max(1, v.selection * 100)}%` } }),
                      h("i", { class: "bar base", style: { width: `${Math.max(1, v.baseline * 100)}%` } }),
                    ),
                    h("span", { class: "pct" }, `${(v.selection * 100).toFixed(0)}% / ${(v.baseline * 100).toFixed(0)}%`),
                  );
                }),
                c.hiddenValues ? h("div", { class: "muted small" }, `+${c.hiddenValues} more values`) : null,
              ),
            ),
          ),
      same.length ? h("p", { class: "muted small" }, `No difference in: ${same.join(", ")}.`) : null,
    );
  } catch (e) {
    if (abort.signal.aborted) {
      if (bubbleAbort === abort) el.replaceChildren(h("p", { class: "muted", "data-testid": "bubbleup-cancelled" }, "BubbleUp cancelled."));
      return;
    }
    el.replaceChildren(h("div", { class: "error-box" }, `BubbleUp failed: ${(e as Error).message}`));
  } finally {
    if (bubbleAbort === abort) bubbleAbort = null;
  }
}
