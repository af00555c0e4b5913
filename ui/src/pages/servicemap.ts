// Service map: services as nodes, calls as edges (width by request rate, colour by error rate),
// latency on hover, click a node → its traces. Laid out left to right with dagre via cytoscape;
// this page is its own chunk, so the graph libraries load only here.
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import { ApiError, getServiceGraph, type GraphEdge, type GraphNode } from "../api";
import { sendDataHelp } from "../components/empty";
import { PRESETS } from "../components/timepicker";
import { formatDuration, formatNumber, formatRate, h, serviceColor } from "../dom";
import type { PageContext } from "../main";
import { navigate } from "../nav";

cytoscape.use(dagre);

function errorColor(rate: number): string {
  if (rate <= 0) return "#7d8797";
  if (rate < 0.01) return "#e0a100";
  if (rate < 0.05) return "#ef7b22";
  return "#d62839";
}

export async function render(ctx: PageContext): Promise<void> {
  const range = Number(ctx.query.get("range")) || 3600;
  const rangeSel = h("select", { "aria-label": "Time range" }, PRESETS.map(([s, label]) => h("option", { value: String(s), selected: s === range }, label)));
  rangeSel.addEventListener("change", () => navigate(`/service-map?range=${rangeSel.value}`));
  const graphEl = h("div", { class: "graph", "data-testid": "service-map" });
  const tip = h("div", { class: "graph-tip", hidden: true });
  const side = h("div", { class: "graph-side" });
  ctx.root.append(
    h("div", { class: "page-head" }, h("h1", null, "Service map"), rangeSel),
    h("div", { class: "graph-wrap" }, graphEl, tip),
    side,
  );
  const now = Math.floor(Date.now() / 1000);
  let nodes: GraphNode[], edges: GraphEdge[];
  try {
    ({ nodes, edges } = await getServiceGraph(now - range, now + 60));
  } catch (e) {
    const msg =
      e instanceof ApiError && e.status === 404
        ? "This server does not offer the service graph (GET /api/v1/service-graph) yet."
        : `Could not load the service graph: ${(e as Error).message}`;
    graphEl.replaceWith(h("div", { class: "error-box" }, msg));
    return;
  }
  if (!nodes.length) {
    graphEl.replaceWith(sendDataHelp("No services in this time range"));
    return;
  }
  const maxReq = Math.max(1, ...edges.map((e) => e.request_count));
  const cy = cytoscape({
    container: graphEl,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3,
    elements: [
      ...nodes.map((n) => ({
        data: {
          id: n.name,
          label: `${n.name}\n${formatRate(n.request_count / range)}${n.error_count ? ` · ${((n.error_count / Math.max(1, n.request_count)) * 100).toFixed(1)}% err` : ""}`,
          color: n.kind === "service" ? serviceColor(n.name) : "#8c96a8",
          border: errorColor(n.error_count / Math.max(1, n.request_count)),
          shape: n.kind === "database" ? "barrel" : n.kind === "service" ? "round-rectangle" : "round-diamond",
          node: n,
        },
      })),
      ...edges.map((e, i) => ({
        data: {
          id: `e${i}`,
          source: e.source,
          target: e.target,
          width: 1.5 + 8 * Math.sqrt(e.request_count / maxReq),
          color: errorColor(e.error_count / Math.max(1, e.request_count)),
          label: formatRate(e.request_count / range),
          edge: e,
        },
      })),
    ],
    style: [
      {
        selector: "node",
        style: {
          shape: "data(shape)" as never,
          "background-color": "#ffffff",
          "border-width": 3,
          "border-color": "data(border)",
          label: "data(label)",
          "text-wrap": "wrap",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": 12,
          "font-family": "system-ui, sans-serif",
          color: "#1f2430",
          width: 150,
          height: 52,
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
          "curve-style": "bezier",
          label: "data(label)",
          "font-size": 10,
          color: "#5b6474",
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.85,
          "text-background-padding": "2px",
        },
      },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.08 } },
    ],
    layout: { name: "dagre", rankDir: "LR", nodeSep: 40, rankSep: 110, padding: 30 } as cytoscape.LayoutOptions,
  });
  ctx.onLeave(() => cy.destroy());
  // A small graph should not be blown up to fill the canvas.
  if (cy.zoom() > 1.5) {
    cy.zoom(1.5);
    cy.center();
  }
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
        h("div", null, `${formatNumber(e.request_count)} calls (${formatRate(e.request_count / range)}), ${formatNumber(e.error_count)} errors`),
        h("div", null, `p50 ${formatDuration(e.p50_ms)} · p95 ${formatDuration(e.p95_ms)} · p99 ${formatDuration(e.p99_ms)}`),
      ],
      p.x,
      p.y,
    );
  });
  cy.on("mouseover", "node", (ev) => {
    const n = ev.target.data("node") as GraphNode;
    const p = ev.renderedPosition;
    const incoming = edges.filter((e) => e.target === n.name);
    showTip(
      [
        h("b", null, n.name),
        h("div", null, `${n.kind} · ${formatNumber(n.request_count)} requests · ${formatNumber(n.error_count)} errors`),
        ...incoming.map((e) => h("div", { class: "small" }, `from ${e.source}: p50 ${formatDuration(e.p50_ms)}, p99 ${formatDuration(e.p99_ms)}`)),
        h("div", { class: "muted small" }, "Click to see its traces"),
      ],
      p.x,
      p.y,
    );
  });
  cy.on("mouseout", () => (tip.hidden = true));
  cy.on("tap", "node", (ev) => navigate(`/traces?service=${encodeURIComponent(ev.target.id())}`));
  cy.on("tap", "edge", (ev) => {
    const e = ev.target.data("edge") as GraphEdge;
    navigate(`/traces?service=${encodeURIComponent(e.source)}`);
  });

  side.replaceChildren(
    h("h3", null, "Calls"),
    h(
      "table",
      { class: "grid edges-table", "data-testid": "edges" },
      h("thead", null, h("tr", null, h("th", null, "From"), h("th", null, "To"), h("th", { class: "num" }, "Calls"), h("th", { class: "num" }, "Errors"), h("th", { class: "num" }, "p50"), h("th", { class: "num" }, "p95"), h("th", { class: "num" }, "p99"))),
      h(
        "tbody",
        null,
        [...edges]
          .sort((a, b) => b.request_count - a.request_count)
          .map((e) =>
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
          ),
      ),
    ),
    h("p", { class: "muted small" }, "Edge width: call rate. Colour: error rate (grey none, amber < 1%, orange < 5%, red ≥ 5%). Hover for latency; click a service for its traces."),
  );
}
