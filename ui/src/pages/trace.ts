// Trace view: a waterfall of every span on the trace's time axis (virtualized rows, so 50,000
// spans scroll smoothly), a collapsible tree, service colours, error spans in red, the critical
// path, and a details panel with typed attributes, events, links, resource, X-Ray annotations and
// metadata, each value linking to "query by this value".
import { ApiError, getTrace, type Attribute, type Span, type Trace } from "../api";
import { fill, formatDuration, formatNumber, formatTime, h, link, serviceColor } from "../dom";
import { stateToParams, defaultState } from "../lib/queryUrl";
import { criticalPath, layoutWaterfall, visibleRows, type WfLayout } from "../lib/waterfall";
import type { PageContext } from "../main";

const ROW_H = 24;
const OVERSCAN = 12;
const INDENT = 14;
const MAX_INDENT_DEPTH = 30;

declare global {
  interface Window {
    __ariadneWaterfall?: { spans: number; fetchMs: number; layoutMs: number; drawnAt: number };
  }
}

function ticks(total: number): number[] {
  if (total <= 0) return [0];
  const raw = total / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => total / s <= 6) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= total + 1e-9; t += step) out.push(t);
  return out;
}

// The API names status codes "unset" / "ok" / "error" (upper case is accepted too).
function isErrorSpan(s: Span): boolean {
  return (s.status?.code ?? "").toLowerCase().endsWith("error");
}

function attrValue(a: Attribute): string {
  if (a.value === null || a.value === undefined) return "";
  if (typeof a.value === "object") return JSON.stringify(a.value);
  return String(a.value);
}

function queryByValue(key: string, a: Attribute, service?: string): string {
  const s = defaultState();
  s.calcs = [{ op: "COUNT" }, { op: "HEATMAP", column: "duration_ms" }, { op: "P99", column: "duration_ms" }];
  const v = typeof a.value === "object" ? JSON.stringify(a.value) : (a.value as string | number | boolean);
  s.filters = [{ column: key, op: "=", value: v }];
  s.breakdowns = service ? ["service.name"] : [];
  return `/query?${stateToParams(s)}`;
}

function attrTable(attrs: Attribute[], prefix = "", service?: string): HTMLElement {
  if (!attrs.length) return h("p", { class: "muted small" }, "none");
  return h(
    "table",
    { class: "attrs" },
    h(
      "tbody",
      null,
      attrs.map((a) =>
        h(
          "tr",
          null,
          h("td", { class: "k", title: a.key }, a.key),
          h("td", { class: "t" }, a.type),
          h("td", { class: "v" }, h("span", { class: "val" }, attrValue(a)), " ",
            link(queryByValue(prefix + a.key, a, service), h("span", { class: "q", title: `Query spans where ${prefix + a.key} = this value` }, "query"))),
        ),
      ),
    ),
  );
}

export async function render(ctx: PageContext): Promise<void> {
  const t0 = performance.now();
  const id = ctx.params.id;
  const status = h("p", { class: "muted loading" }, `Loading trace ${id}…`);
  ctx.root.append(status);
  let trace: Trace;
  try {
    trace = await getTrace(id);
  } catch (e) {
    const err = e as ApiError;
    status.replaceWith(
      h(
        "div",
        { class: "notfound" },
        h("h1", null, err.status === 404 ? "Trace not found" : err.status === 400 ? "Not a trace id" : "Could not load the trace"),
        h("p", null, err.message),
        h("p", null, "Trace ids are 32 hex digits (", h("code", null, "4bf92f3577b34da6a3ce929d0e0e4736"), ") or X-Ray ids (", h("code", null, "1-5759e988-bd862e3fe1be46a994272793"), "). Spans can take a moment to arrive; ", link("/traces", "search recent traces"), "."),
      ),
    );
    return;
  }
  const fetchMs = performance.now() - t0;
  const spans = trace.spans;
  const tl = performance.now();
  const layout = layoutWaterfall(spans);
  const critical = criticalPath(layout);
  const layoutMs = performance.now() - tl;
  const errorCount = spans.reduce((n, s) => n + (isErrorSpan(s) ? 1 : 0), 0);
  const rootRow = layout.count ? spans[layout.order[0]] : undefined;
  document.title = `${rootRow ? rootRow.service_name + ": " + rootRow.name : "Trace"} · Ariadne`;

  const collapsed = new Set<number>();
  let rows = visibleRows(layout, collapsed);
  let selected = -1;
  let showCritical = true;

  // ---- header ----
  const services = trace.services.length ? trace.services : [...new Set(spans.map((s) => s.service_name))];
  const startMs = Number(BigInt(trace.start_time_unix_nano) / 1000000n);
  const critToggle = h("input", { type: "checkbox", checked: true });
  critToggle.addEventListener("change", () => {
    showCritical = critToggle.checked;
    draw(true);
  });
  const header = h(
    "div",
    { class: "trace-head" },
    h(
      "div",
      { class: "trace-title" },
      h("h1", null, rootRow ? h("span", null, h("span", { class: "dot", style: { background: serviceColor(rootRow.service_name) } }), rootRow.service_name, ": ", rootRow.name) : "Trace"),
      h(
        "div",
        { class: "trace-meta" },
        h("span", null, h("b", null, formatDuration(trace.duration_ms)), " total"),
        h("span", { "data-testid": "span-count" }, h("b", null, formatNumber(spans.length)), " spans"),
        h("span", null, h("b", null, services.length), " services"),
        errorCount ? h("span", { class: "bad" }, h("b", null, errorCount), " errors") : null,
        h("span", null, formatTime(startMs)),
        h("span", { class: "mono small", title: "Trace id" }, trace.trace_id),
        trace.xray_trace_id ? h("span", { class: "mono small muted", title: "X-Ray trace id" }, trace.xray_trace_id) : null,
        layout.orphans ? h("span", { class: "warn", title: "Spans whose parent is not (yet) in the trace are shown as roots" }, `${layout.orphans} orphan spans`) : null,
      ),
    ),
    h(
      "div",
      { class: "trace-tools" },
      h("div", { class: "legend" }, services.slice(0, 16).map((s) => h("span", { class: "tag", style: { borderColor: serviceColor(s) } }, h("span", { class: "dot", style: { background: serviceColor(s) } }), s))),
      h("label", { class: "check" }, critToggle, " critical path"),
      h("button", { type: "button", onclick: () => { collapsed.clear(); rows = visibleRows(layout, collapsed); draw(true); } }, "Expand all"),
      h("button", {
        type: "button",
        onclick: () => {
          collapsed.clear();
          for (let r = 0; r < layout.count; r++) {
            const i = layout.order[r];
            if (layout.depth[i] === 1 && layout.childCount[i] > 0) collapsed.add(i);
          }
          rows = visibleRows(layout, collapsed);
          draw(true);
        },
      }, "Collapse to depth 1"),
    ),
  );

  // ---- waterfall ----
  const total = layout.durationMs || 1;
  const axis = h("div", { class: "wf-axis" }, h("div", { class: "wf-label" }, "Service / span"), h("div", { class: "wf-timeline" }, ticks(total).map((t) => h("span", { class: "tick", style: { left: `${(t / total) * 100}%` } }, formatDuration(t)))));
  const spacer = h("div", { class: "wf-spacer" });
  const rowsLayer = h("div", { class: "wf-rows" });
  const scroller = h("div", { class: "wf-scroll", "data-testid": "waterfall", tabindex: 0 }, spacer, rowsLayer);
  const details = h("aside", { class: "span-details", hidden: true });
  const body = h("div", { class: "trace-body" }, h("div", { class: "wf" }, axis, scroller), details);
  status.replaceWith(header, body);

  let lastFirst = -1;
  let lastLast = -1;
  const draw = (force = false) => {
    spacer.style.height = `${rows.length * ROW_H}px`;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    if (!force && first === lastFirst && last === lastLast) return;
    lastFirst = first;
    lastLast = last;
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) frag.appendChild(rowEl(rows[r], r));
    rowsLayer.replaceChildren(frag);
  };

  const rowEl = (i: number, r: number): HTMLElement => {
    const s = spans[i];
    const depth = layout.depth[i];
    const isErr = isErrorSpan(s);
    const color = serviceColor(s.service_name);
    const left = (layout.start[i] / total) * 100;
    const width = Math.max(((layout.end[i] - layout.start[i]) / total) * 100, 0.15);
    const hasKids = layout.childCount[i] > 0;
    const toggle = hasKids
      ? h("button", { type: "button", class: "tw", "data-toggle": i, "aria-label": collapsed.has(i) ? "Expand" : "Collapse" }, collapsed.has(i) ? "▸" : "▾")
      : h("span", { class: "tw" });
    const onPath = showCritical && critical.has(i);
    const indent = Math.min(depth, MAX_INDENT_DEPTH) * INDENT;
    return h(
      "div",
      {
        class: "wf-row" + (isErr ? " err" : "") + (i === selected ? " sel" : "") + (onPath ? " crit" : ""),
        style: { top: `${r * ROW_H}px` },
        "data-span": i,
        "data-depth": depth,
        "data-span-id": s.span_id,
        "data-parent-id": s.parent_span_id,
      },
      h(
        "div",
        { class: "wf-label", title: `${s.service_name}: ${s.name}` },
        h("span", { class: "indent", style: { width: `${indent}px` } }),
        depth > MAX_INDENT_DEPTH ? h("span", { class: "deep" }, `${depth}`) : null,
        toggle,
        h("span", { class: "svc-bar", style: { background: color } }),
        h("span", { class: "svc" }, s.service_name),
        h("span", { class: "name" }, s.name),
        hasKids && collapsed.has(i) ? h("span", { class: "kids" }, `+${layout.subtreeEnd[layout.rowOf[i]] - layout.rowOf[i] - 1}`) : null,
        isErr ? h("span", { class: "err-icon", title: s.status.message || "error" }, "!") : null,
      ),
      h(
        "div",
        { class: "wf-timeline" },
        h("div", { class: "bar", style: { left: `${left}%`, width: `${width}%`, background: isErr ? "#d62839" : color } }),
        h("span", { class: "dur", style: left + width > 80 ? { right: `${100 - left + 0.5}%` } : { left: `${left + width + 0.5}%` } }, formatDuration(layout.end[i] - layout.start[i])),
      ),
    );
  };

  let pending = false;
  scroller.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  });
  rowsLayer.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const toggle = target.closest("[data-toggle]") as HTMLElement | null;
    if (toggle) {
      const i = Number(toggle.dataset.toggle);
      if (collapsed.has(i)) collapsed.delete(i);
      else collapsed.add(i);
      rows = visibleRows(layout, collapsed);
      draw(true);
      return;
    }
    const row = target.closest(".wf-row") as HTMLElement | null;
    if (!row) return;
    selected = Number(row.dataset.span);
    showDetails(spans[selected], layout, selected);
    draw(true);
  });
  scroller.addEventListener("keydown", (e) => {
    if (selected < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    const pos = rows.indexOf(selected);
    const next = rows[Math.max(0, Math.min(rows.length - 1, pos + (e.key === "ArrowDown" ? 1 : -1)))];
    if (next === undefined) return;
    selected = next;
    const r = rows.indexOf(next);
    if (r * ROW_H < scroller.scrollTop) scroller.scrollTop = r * ROW_H;
    else if ((r + 1) * ROW_H > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = (r + 1) * ROW_H - scroller.clientHeight;
    showDetails(spans[selected], layout, selected);
    draw(true);
  });
  const onResize = () => draw(true);
  window.addEventListener("resize", onResize);
  ctx.onLeave(() => window.removeEventListener("resize", onResize));

  const showDetails = (s: Span, l: WfLayout, i: number) => {
    details.hidden = false;
    const annotations = s.attributes.filter((a) => a.key.startsWith("annotation."));
    const metadata = s.attributes.filter((a) => a.key.startsWith("aws.xray.metadata."));
    const plain = s.attributes.filter((a) => !a.key.startsWith("annotation.") && !a.key.startsWith("aws.xray.metadata."));
    const isErr = isErrorSpan(s);
    const spanStartNs = BigInt(s.start_time_unix_nano);
    fill(details, 
      h(
        "div",
        { class: "details-head" },
        h("button", { type: "button", class: "close", title: "Close", onclick: () => { details.hidden = true; selected = -1; draw(true); } }, "×"),
        h("h2", null, s.name),
        h("div", null, h("span", { class: "dot", style: { background: serviceColor(s.service_name) } }), h("b", null, s.service_name), ` · ${s.kind.replace("SPAN_KIND_", "").toLowerCase()}`),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", null, "Duration"), h("dd", null, formatDuration(s.duration_ms)),
        h("dt", null, "Starts at"), h("dd", null, `+${formatDuration(l.start[i])}`),
        h("dt", null, "Status"), h("dd", { class: isErr ? "bad" : "" }, s.status.code.toUpperCase() + (s.status.message ? `: ${s.status.message}` : "")),
        h("dt", null, "Span id"), h("dd", { class: "mono" }, s.span_id),
        h("dt", null, "Parent"), h("dd", { class: "mono" }, s.parent_span_id || "(root)"),
        h("dt", null, "Scope"), h("dd", null, [s.scope?.name, s.scope?.version].filter(Boolean).join(" ") || "–"),
        critical.has(i) ? [h("dt", null, "Critical path"), h("dd", null, "yes")] : null,
      ),
      h("h3", null, `Attributes (${plain.length})`),
      attrTable(plain, "", s.service_name),
      annotations.length ? [h("h3", null, `X-Ray annotations (${annotations.length})`), attrTable(annotations, "", s.service_name)] : null,
      metadata.length ? [h("h3", null, `X-Ray metadata (${metadata.length})`), attrTable(metadata, "", s.service_name)] : null,
      h("h3", null, `Events (${s.events.length})`),
      s.events.length
        ? h(
            "ul",
            { class: "events" },
            s.events.map((ev) =>
              h(
                "li",
                { class: ev.name === "exception" ? "bad" : "" },
                h("div", null, h("b", null, ev.name), " ", h("span", { class: "muted" }, `+${formatDuration(Number(BigInt(ev.time_unix_nano) - spanStartNs) / 1e6)}`)),
                attrTable(ev.attributes),
              ),
            ),
          )
        : h("p", { class: "muted small" }, "none"),
      h("h3", null, `Links (${s.links.length})`),
      s.links.length
        ? h("ul", { class: "links" }, s.links.map((lk) => h("li", null, link(`/traces/${lk.trace_id}`, h("span", { class: "mono" }, lk.trace_id)), ` span ${lk.span_id}`, lk.attributes.length ? attrTable(lk.attributes) : null)))
        : h("p", { class: "muted small" }, "none"),
      h("h3", null, `Resource (${s.resource.attributes.length})`),
      attrTable(s.resource.attributes, "", s.service_name),
    );
  };

  draw(true);
  requestAnimationFrame(() => {
    window.__ariadneWaterfall = { spans: spans.length, fetchMs, layoutMs, drawnAt: performance.now() };
    scroller.dataset.drawn = "true";
  });
}
