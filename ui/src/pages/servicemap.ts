// Service map: services as nodes, calls as edges (width by call rate, colour by error rate),
// latency on hover. Built to stay readable at 50+ services and hundreds of edges:
//   - fit-to-screen and zoom buttons, the ordinary wheel zoom, and a zoom floor below the fitted
//     zoom so the whole graph always fits;
//   - focus on one service with its neighbours (depth 1 or 2): click a node or pick it in the list;
//   - filters: environment, minimum calls per edge, minimum error rate;
//   - edge labels only where they can be read (a focused or small graph, and only when zoomed in
//     enough for the text);
//   - the calls table limited to the focused service, or paged.
//   - an X-Ray group (group=NAME) or filter expression (xray_filter=…): the map of the matching
//     traces only.
// The state lives in the URL: /service-map?range=3600&env=prod&focus=cart&depth=2&min_calls=5&min_err=0.01
// Laid out left to right with dagre via cytoscape; this page is its own chunk.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { ApiError, getServiceGraph, listServices, type GraphEdge, type GraphNode } from "../api";
import { sendDataHelp } from "../components/empty";
import { xrayScopeControl } from "../components/xrayScope";
import { listGroups, resolveScope } from "../lib/xrayGroups";
import { PRESETS } from "../components/timepicker";
import { fill, formatDuration, formatNumber, formatRate, h, link, serviceColor } from "../dom";
import { errorRate, showEdgeLabels, visibleGraph, type GraphFilter } from "../lib/graphView";
import type { PageContext } from "../main";
import { navigate, setUrl } from "../nav";

cytoscape.use(dagre);

const TABLE_PAGE = 25;

function errorColor(rate: number): string {
  if (rate <= 0) return "#7d8797";
  if (rate < 0.01) return "#e0a100";
  if (rate < 0.05) return "#ef7b22";
  return "#d62839";
}

const pct = (rate: number) => `${(rate * 100).toFixed(rate < 0.01 && rate > 0 ? 2 : 1)}%`;

interface MapState extends GraphFilter {
  range: number;
  env: string;
  group?: string;
  xray?: string;
}

function readState(q: URLSearchParams): MapState {
  const num = (k: string) => {
    const v = Number(q.get(k));
    return Number.isFinite(v) && v > 0 ? v : undefined;
  };
  return {
    range: num("range") ?? 3600,
    env: q.get("env") ?? "",
    focus: q.get("focus") || undefined,
    depth: num("depth") === 2 ? 2 : 1,
    minCalls: num("min_calls"),
    minErrorRate: num("min_err"),
    group: q.get("group") || undefined,
    xray: q.get("xray_filter") || undefined,
  };
}

function stateHref(s: MapState): string {
  const p = new URLSearchParams();
  if (s.range !== 3600) p.set("range", String(s.range));
  if (s.env) p.set("env", s.env);
  if (s.focus) p.set("focus", s.focus);
  if (s.focus && s.depth === 2) p.set("depth", "2");
  if (s.minCalls) p.set("min_calls", String(s.minCalls));
  if (s.minErrorRate) p.set("min_err", String(s.minErrorRate));
  if (s.group) p.set("group", s.group);
  else if (s.xray) p.set("xray_filter", s.xray);
  const qs = p.toString();
  return `/service-map${qs ? `?${qs}` : ""}`;
}

export async function render(ctx: PageContext): Promise<void> {
  const state = readState(ctx.query);
  const reload = (patch: Partial<MapState>) => navigate(stateHref({ ...state, ...patch }));

  const rangeSel = h("select", { "aria-label": "Time range" }, PRESETS.map(([s, label]) => h("option", { value: String(s), selected: s === state.range }, label)));
  rangeSel.addEventListener("change", () => reload({ range: Number(rangeSel.value) }));
  const envSel = h("select", { name: "env", "aria-label": "Environment" }, h("option", { value: "" }, "All environments"));
  envSel.addEventListener("change", () => reload({ env: envSel.value, focus: undefined }));
  listServices()
    .then(({ services }) => {
      const envs = [...new Set(services.map((s) => s.environment))].sort();
      if (state.env && !envs.includes(state.env)) envs.unshift(state.env);
      for (const e of envs) envSel.appendChild(h("option", { value: e, selected: e === state.env }, e));
    })
    .catch(() => {});

  const groups = listGroups();
  const scope = await resolveScope(state.group ?? null, state.xray ?? null, groups);
  const scopeBar = h("div", { class: "map-toolbar" }, xrayScopeControl(scope, groups, (s) => reload({ group: s.group, xray: s.expression, focus: undefined })));
  const graphEl = h("div", { class: "graph", "data-testid": "service-map" });
  const tip = h("div", { class: "graph-tip", hidden: true });
  const toolbar = h("div", { class: "map-toolbar" });
  const focusPanel = h("div", { class: "focus-panel", "data-testid": "focus-panel" });
  const side = h("div", { class: "graph-side" });
  ctx.root.append(
    h("div", { class: "page-head" }, h("h1", null, scope.group ? `Service map of group ${scope.group}` : "Service map"), envSel, rangeSel),
    scopeBar,
    toolbar,
    h("div", { class: "graph-wrap" }, graphEl, tip),
    focusPanel,
    side,
  );
  const now = Math.floor(Date.now() / 1000);
  let nodes: GraphNode[], edges: GraphEdge[];
  try {
    if (scope.unknownGroup) throw new Error(`there is no X-Ray group named "${scope.group}"`);
    ({ nodes, edges } = await getServiceGraph(now - state.range, now + 60, state.env || undefined, scope.expression || undefined));
  } catch (e) {
    const msg =
      e instanceof ApiError && e.status === 404
        ? "This server does not offer the service graph (GET /api/v1/service-graph) yet."
        : `Could not load the service graph: ${(e as Error).message}`;
    graphEl.replaceWith(h("div", { class: "error-box" }, msg));
    return;
  }
  if (!nodes.length) {
    graphEl.replaceWith(
      scope.expression
        ? h("p", { class: "empty-note", "data-testid": "map-empty" }, "No trace in this time range matches the X-Ray filter.")
        : sendDataHelp("No services in this time range"),
    );
    return;
  }

  // Links to traces keep the X-Ray group or filter.
  const scopeQuery = scope.group ? `&group=${encodeURIComponent(scope.group)}` : scope.expression ? `&xray_filter=${encodeURIComponent(scope.expression)}` : "";
  // Toolbar: zoom, focus, filters.
  const names = nodes.map((n) => n.name).sort();
  const focusSel = h(
    "select",
    { name: "focus", "aria-label": "Focus on a service" },
    h("option", { value: "" }, "Whole graph"),
    names.map((n) => h("option", { value: n, selected: n === state.focus }, n)),
  );
  focusSel.addEventListener("change", () => reload({ focus: focusSel.value || undefined }));
  const depthSel = h(
    "select",
    { name: "depth", "aria-label": "Neighbour depth", disabled: !state.focus },
    h("option", { value: "1", selected: state.depth !== 2 }, "neighbours"),
    h("option", { value: "2", selected: state.depth === 2 }, "neighbours of neighbours"),
  );
  depthSel.addEventListener("change", () => reload({ depth: Number(depthSel.value) }));
  const minCalls = h("input", { name: "min_calls", type: "number", min: 0, value: state.minCalls ?? "", placeholder: "0", size: 5, "aria-label": "Minimum calls per edge" });
  minCalls.addEventListener("change", () => reload({ minCalls: Number(minCalls.value) || undefined }));
  const minErr = h(
    "select",
    { name: "min_err", "aria-label": "Minimum error rate" },
    [
      [0, "any error rate"],
      [0.001, "errors ≥ 0.1%"],
      [0.01, "errors ≥ 1%"],
      [0.05, "errors ≥ 5%"],
      [0.2, "errors ≥ 20%"],
    ].map(([v, label]) => h("option", { value: String(v), selected: (state.minErrorRate ?? 0) === v }, String(label))),
  );
  minErr.addEventListener("change", () => reload({ minErrorRate: Number(minErr.value) || undefined }));

  const view = visibleGraph(nodes, edges, state);
  const focused = !!state.focus;
  const labels = showEdgeLabels(view.edges.length, focused);
  const maxReq = Math.max(1, ...view.edges.map((e) => e.request_count));
  // The page's colours (light or dark theme) for the canvas, which CSS does not reach.
  const css = getComputedStyle(document.documentElement);
  const themeVar = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const theme = { card: themeVar("--card", "#ffffff"), fg: themeVar("--fg", "#1f2430"), muted: themeVar("--muted", "#5b6474") };
  const t0 = performance.now();
  const cy = cytoscape({
    container: graphEl,
    minZoom: 0.02,
    maxZoom: 4,
    // Cytoscape's own wheel zoom moves ~3 % per notch of a mouse wheel; ours is below.
    userZoomingEnabled: false,
    elements: [
      ...view.nodes.map((n) => ({
        data: {
          id: n.name,
          // The map's error rate is the request error rate: failed requests among those received.
          label: `${n.name}\n${formatRate(n.request_count / state.range)}${n.error_count ? ` · ${pct(errorRate(n))} req. errors` : ""}`,
          color: n.kind === "service" ? serviceColor(n.name) : "#8c96a8",
          border: errorColor(errorRate(n)),
          shape: n.kind === "database" ? "barrel" : n.kind === "service" ? "round-rectangle" : "round-diamond",
          width: n.name === state.focus ? 5 : 3,
          node: n,
        },
      })),
      ...view.edges.map((e, i) => ({
        data: {
          id: `e${i}`,
          source: e.source,
          target: e.target,
          width: 1 + 7 * Math.sqrt(e.request_count / maxReq),
          color: errorColor(errorRate(e)),
          label: labels ? formatRate(e.request_count / state.range) : "",
          edge: e,
        },
      })),
    ],
    style: [
      {
        selector: "node",
        style: {
          shape: "data(shape)" as never,
          "background-color": theme.card,
          "border-width": "data(width)" as never,
          "border-color": "data(border)",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 12,
          "font-family": "system-ui, sans-serif",
          color: theme.fg,
          width: 150,
          height: 52,
          "min-zoomed-font-size": 5,
          "underlay-color": "data(color)",
          "underlay-opacity": 0.3,
          "underlay-padding": 4,
          "underlay-shape": "round-rectangle" as never,
        },
      },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": "data(color)",
          "target-arrow-color": "data(color)",
          "target-arrow-shape": "triangle",
          "curve-style": view.edges.length > 150 ? "haystack" : "bezier",
          opacity: view.edges.length > 150 ? 0.55 : 0.9,
          label: "data(label)",
          "font-size": 10,
          // Labels vanish when the zoom would make them smaller than this (unreadable).
          "min-zoomed-font-size": 8,
          color: theme.muted,
          "text-background-color": theme.card,
          "text-background-opacity": 0.85,
          "text-background-padding": "2px",
        },
      },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.08 } },
    ],
    // Left to right by call depth for a graph that fits that way; a force layout for a large one,
    // whose long call chains would make dagre's ranks far wider than the screen.
    layout: (view.nodes.length > 30
      ? { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 400000, idealEdgeLength: () => 120, nodeOverlap: 20, numIter: 800, padding: 30 }
      : { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 110, padding: 30 }) as cytoscape.LayoutOptions,
  });
  ctx.onLeave(() => cy.destroy());
  // Fit, and never let the zoom floor stop the graph from fitting; a small graph is not blown up.
  const fit = () => {
    cy.fit(undefined, 30);
    if (cy.zoom() > 1.5) {
      cy.zoom(1.5);
      cy.center();
    }
    cy.minZoom(Math.min(0.2, cy.zoom() / 2));
  };
  fit();
  const drawnMs = performance.now() - t0;
  (window as unknown as { __ariadneMap: unknown }).__ariadneMap = { cy, drawnMs, nodes: view.nodes.length, edges: view.edges.length, labels };
  graphEl.dataset.nodes = String(view.nodes.length);
  graphEl.dataset.edges = String(view.edges.length);
  // Which view this drawing shows (the URL state), so a test can tell it from the previous page's.
  graphEl.dataset.state = stateHref(state);
  graphEl.dataset.drawn = "true";

  const zoomBy = (factor: number, at = { x: graphEl.clientWidth / 2, y: graphEl.clientHeight / 2 }) => {
    const z = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), cy.zoom() * factor));
    cy.zoom({ level: z, renderedPosition: at });
  };
  // Wheel zoom around the cursor: about 16 % per notch of a mouse wheel (deltaY 100 pixels or
  // 3 lines), smooth on touchpads (small deltas; pinch arrives as a wheel with ctrlKey).
  graphEl.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault();
      const pixels = ev.deltaMode === 1 ? ev.deltaY * 33 : ev.deltaMode === 2 ? ev.deltaY * 400 : ev.deltaY;
      const factor = Math.min(2, Math.max(0.5, Math.pow(1.0015, -pixels * (ev.ctrlKey ? 3 : 1))));
      const r = graphEl.getBoundingClientRect();
      zoomBy(factor, { x: ev.clientX - r.left, y: ev.clientY - r.top });
    },
    { passive: false },
  );
  fill(
    toolbar,
    h("span", { class: "btn-group" },
      h("button", { type: "button", title: "Fit the graph to the screen", "data-testid": "map-fit", onclick: fit }, "Fit"),
      h("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", "data-testid": "map-zoom-in", onclick: () => zoomBy(1.5) }, "+"),
      h("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", "data-testid": "map-zoom-out", onclick: () => zoomBy(1 / 1.5) }, "−"),
    ),
    h("label", null, "Focus ", focusSel, " ", depthSel),
    state.focus ? h("button", { type: "button", class: "link-button", onclick: () => reload({ focus: undefined }) }, "Show all") : null,
    h("label", null, "Min calls ", minCalls),
    h("label", null, minErr),
    h("span", { class: "muted small", "data-testid": "map-count" }, `${view.nodes.length} of ${nodes.length} services, ${view.edges.length} of ${edges.length} calls`),
  );

  const showTip = (html: HTMLElement[], x: number, y: number) => {
    tip.replaceChildren(...html);
    tip.hidden = false;
    tip.style.left = `${x + 14}px`;
    tip.style.top = `${y + 14}px`;
  };
  cy.on("mouseover", "edge", (ev) => {
    const e = ev.target.data("edge") as GraphEdge;
    const p = ev.renderedPosition;
    showTip(
      [
        h("b", null, `${e.source} → ${e.target}`),
        h("div", null, `${formatNumber(e.request_count)} calls (${formatRate(e.request_count / state.range)}), ${formatNumber(e.error_count)} failed (${pct(errorRate(e))})`),
        h("div", null, `p50 ${formatDuration(e.p50_ms)} · p95 ${formatDuration(e.p95_ms)} · p99 ${formatDuration(e.p99_ms)}`),
      ],
      p.x,
      p.y,
    );
  });
  cy.on("mouseover", "node", (ev) => {
    const n = ev.target.data("node") as GraphNode;
    const p = ev.renderedPosition;
    showTip(
      [
        h("b", null, n.name),
        h("div", null, `${n.kind} · ${formatNumber(n.request_count)} requests received · ${formatNumber(n.error_count)} failed (${pct(errorRate(n))} request errors)`),
        h("div", { class: "muted small" }, "Click to focus on it and its neighbours"),
      ],
      p.x,
      p.y,
    );
  });
  cy.on("mouseout", () => (tip.hidden = true));
  cy.on("tap", "node", (ev) => reload({ focus: ev.target.id() }));
  cy.on("tap", "edge", (ev) => {
    const e = ev.target.data("edge") as GraphEdge;
    navigate(`/traces?service=${encodeURIComponent(e.source)}${scopeQuery}`);
  });

  // The focused service: its numbers and where to go next.
  const focusNode = state.focus ? nodes.find((n) => n.name === state.focus) : undefined;
  if (focusNode) {
    focusPanel.replaceChildren(
      h("b", null, focusNode.name),
      h(
        "span",
        { "data-testid": "focus-request-errors" },
        ` · ${formatNumber(focusNode.request_count)} requests received, ${formatNumber(focusNode.error_count)} failed: ${pct(errorRate(focusNode))} request errors`,
      ),
      " · ",
      link(`/traces?service=${encodeURIComponent(focusNode.name)}${scopeQuery}`, "its traces"),
    );
  } else focusPanel.remove();

  const tableEdges = [...(state.focus ? view.edges.filter((e) => e.source === state.focus || e.target === state.focus) : view.edges)].sort(
    (a, b) => b.request_count - a.request_count,
  );
  const tbody = h("tbody");
  let shown = 0;
  const more = h("button", { type: "button", class: "more", "data-testid": "edges-more" });
  const addRows = () => {
    const until = Math.min(tableEdges.length, shown + TABLE_PAGE);
    for (; shown < until; shown++) {
      const e = tableEdges[shown];
      tbody.appendChild(
        h(
          "tr",
          { "data-edge": `${e.source}->${e.target}` },
          h("td", null, h("span", { class: "dot", style: { background: serviceColor(e.source) } }), e.source),
          h("td", null, h("span", { class: "dot", style: { background: serviceColor(e.target) } }), e.target),
          h("td", { class: "num" }, formatNumber(e.request_count)),
          h("td", { class: "num" + (e.error_count ? " bad" : "") }, formatNumber(e.error_count)),
          h("td", { class: "num" }, formatDuration(e.p50_ms)),
          h("td", { class: "num" }, formatDuration(e.p95_ms)),
          h("td", { class: "num" }, formatDuration(e.p99_ms)),
        ),
      );
    }
    more.hidden = shown >= tableEdges.length;
    more.textContent = `Show ${Math.min(TABLE_PAGE, tableEdges.length - shown)} more of ${formatNumber(tableEdges.length - shown)}`;
  };
  more.addEventListener("click", addRows);
  addRows();
  side.replaceChildren(
    h("h3", null, state.focus ? `Calls to and from ${state.focus}` : "Calls"),
    h(
      "table",
      { class: "grid edges-table", "data-testid": "edges" },
      h("thead", null, h("tr", null, h("th", null, "From"), h("th", null, "To"), h("th", { class: "num" }, "Calls"), h("th", { class: "num" }, "Errors"), h("th", { class: "num" }, "p50"), h("th", { class: "num" }, "p95"), h("th", { class: "num" }, "p99"))),
      tbody,
    ),
    more,
    h(
      "p",
      { class: "muted small" },
      "Edge width: call rate. Colour: error rate of the calls, and a service's border: its request error rate — failed requests among those it received (grey none, amber < 1%, orange < 5%, red ≥ 5%). " +
        (labels ? "" : "Call rates are shown on the edges once you focus on a service. ") +
        "Hover for latency; click a service to focus on it.",
    ),
  );
  // Keep the URL canonical (e.g. depth without focus dropped).
  setUrl(stateHref(state), true);
}
