// The query builder (Honeycomb-like): VISUALIZE / WHERE / GROUP BY / ORDER BY / LIMIT / HAVING with
// column autocomplete, a time picker, a line chart per calculation with one line per group,
// HEATMAP rendering with BubbleUp on a selected region, and the results table. The whole query
// lives in the URL's query string.
import {
  bubbleUp,
  listColumns,
  runQuery,
  type Column,
  type QueryResponse,
  type ResultData,
} from "../api";
import {
  heatmapChart,
  lineChart,
  type HeatmapData,
  type HeatmapSelection,
  type LineSeries,
} from "../components/charts";
import { sendDataHelp } from "../components/empty";
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
  type QueryState,
} from "../lib/queryUrl";
import type { PageContext } from "../main";
import { navigate } from "../nav";

const MAX_LINES = 12;
const TABLE_PAGE = 500;

function groupKey(data: ResultData, breakdowns: string[]): string {
  return breakdowns.map((b) => String(data[b] ?? "(none)")).join(" · ") || "all";
}

// A clause row: chips for its items and an input (with autocomplete) to add one.
function clause<T>(
  title: string,
  items: T[],
  format: (t: T) => string,
  parse: (text: string) => T | null,
  suggestions: string[],
  placeholder: string,
  onChange: (items: T[]) => void,
  hint: string,
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
  const error = h("span", { class: "clause-error" });
  const add = () => {
    const text = input.value.trim();
    if (!text) return;
    const parsed = parse(text);
    if (parsed === null) {
      error.textContent = hint;
      input.classList.add("invalid");
      return;
    }
    error.textContent = "";
    input.classList.remove("invalid");
    input.value = "";
    onChange([...items, parsed]);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
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
          { class: "chip" },
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
  const builder = h("div", { class: "builder" });
  const results = h("div", { class: "results" });
  const cleanups: (() => void)[] = [];
  ctx.onLeave(() => cleanups.splice(0).forEach((f) => f()));
  ctx.root.append(h("div", { class: "page-head" }, h("h1", null, "Query")), builder, results);

  const go = () => navigate(`/query?${stateToParams(state)}`);
  const update = (s: Partial<QueryState>) => {
    state = { ...state, ...s };
    drawBuilder();
  };

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
        }, calcSuggestions, "COUNT, P99(duration_ms), HEATMAP(duration_ms)…", (calcs) => update({ calcs: calcs.length ? calcs : [{ op: "COUNT" }] }), "use OP or OP(column), e.g. P99(duration_ms)"),
        clause("WHERE", state.filters, formatFilter, parseFilter, whereSuggestions, "service.name = cart", (filters) => update({ filters }), `use "column op value"; op is one of ${FILTER_OPS.join(" ")}`),
        clause("GROUP BY", state.breakdowns, (b) => b, (t) => (t.includes(" ") ? null : t), names, "service.name", (breakdowns) => update({ breakdowns }), "a column name"),
        clause("ORDER BY", state.orders, formatOrder, (t) => parseOrder(t, state.breakdowns), orderSuggestions, "COUNT desc", (orders) => update({ orders }), "a calculation or a GROUP BY column, then asc or desc"),
        clause("HAVING", state.havings, formatHaving, parseHaving, havingSuggestions, "COUNT > 10", (havings) => update({ havings }), "a calculation, a comparison and a number, e.g. COUNT > 10"),
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
    results.replaceChildren(h("div", { class: "error-box", "data-testid": "query-error" }, `Query failed: ${(e as Error).message}`));
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

  const groups = results.map((r) => groupKey(r.data, breakdowns));
  const shown = groups.slice(0, MAX_LINES);
  const groupIndex = new Map(shown.map((g, i) => [g, i]));
  for (const calc of state.calcs) {
    const label = calcLabel(calc);
    const box = h("div", { class: "chart-box" }, h("h3", null, label));
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
      box.appendChild(
        h("p", { class: "muted small" }, "Drag across the heatmap to select a region (e.g. the slow band) and see what is different about it — BubbleUp."),
      );
      box.appendChild(bubble);
      requestAnimationFrame(() =>
        cleanups.push(
          heatmapChart(chartEl, { times, step: gran, cells }, {
            column: calc.column ?? "duration_ms",
            onSelect: (sel) => void runBubbleUp(bubble, state, response, calc.column ?? "duration_ms", sel),
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
      cleanups.push(lineChart(chartEl, times, lines, { yFormat: isDuration ? formatDuration : undefined })),
    );
  }
  if (groups.length > MAX_LINES) {
    el.appendChild(h("p", { class: "muted small" }, `Charts show the first ${MAX_LINES} of ${groups.length} groups.`));
  }
  el.appendChild(resultsTable(state, response));
}

function cellText(v: unknown, column?: string): string {
  if (v && typeof v === "object" && "buckets" in (v as object)) {
    const b = (v as { buckets: { count: number }[] }).buckets;
    return `${formatNumber(b.reduce((a, x) => a + x.count, 0))} in ${b.length} buckets`;
  }
  if (typeof v === "number" && column === "duration_ms") return formatDuration(v);
  return formatNumber(v);
}

function resultsTable(state: QueryState, response: QueryResponse): HTMLElement {
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
      frag.appendChild(
        h(
          "tr",
          null,
          state.breakdowns.map((b) => h("td", null, d[b] === null || d[b] === undefined ? h("span", { class: "muted" }, "(none)") : String(d[b]))),
          state.calcs.map((c, i) => h("td", { class: "num" }, cellText(d[calcs[i]], c.op === "COUNT" ? undefined : c.column))),
        ),
      );
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
    { class: "table-box" },
    h("h3", null, "Results"),
    h("table", { class: "grid results-table", "data-testid": "results" }, h("thead", null, head), tbody, state.breakdowns.length ? foot : null),
    more,
  );
}

async function runBubbleUp(
  el: HTMLElement,
  state: QueryState,
  response: QueryResponse,
  column: string,
  sel: HeatmapSelection,
): Promise<void> {
  el.replaceChildren(h("p", { class: "muted loading" }, "Comparing the selection with the baseline…"));
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
    });
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
            `${formatNumber(r.selection_count)} spans selected vs ${formatNumber(r.baseline_count)} baseline`,
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
    el.replaceChildren(h("div", { class: "error-box" }, `BubbleUp failed: ${(e as Error).message}`));
  }
}
