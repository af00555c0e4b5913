// Trace view: a waterfall of every span on the trace's time axis (virtualized rows, so 50,000
// spans scroll smoothly), a collapsible tree, one colour per service that no other service of the
// trace shares, error spans in red, the critical path, and a details panel with typed attributes,
// events, links, resource, the X-Ray segment fields in their own sections and the raw document one
// click away, each value linking to "query by this value".
//
// Big traces: find in the trace (span name, service, attribute KEY=VALUE, `error`), next/previous
// match and next/previous error, and a minimap of the whole trace where a drag zooms the time axis
// to the dragged range. The URL keeps the selected span and the zoom:
// /traces/{id}?span={span id}&zoom={from ms}-{to ms}, so a reload shows the same thing.
import { ApiError, getTrace, type Span, type Trace } from "../api";
import { renderSpanDetails } from "../components/spanDetails";
import { formatDuration, formatNumber, formatTime, h, link } from "../dom";
import { traceColors } from "../lib/colors";
import { findSpans, isErrorSpan, stepHit } from "../lib/traceFind";
import { criticalPath, layoutWaterfall, visibleRows } from "../lib/waterfall";
import type { PageContext } from "../main";
import { setUrl } from "../nav";

const ROW_H = 24;
const OVERSCAN = 12;
const INDENT = 14;
const MAX_INDENT_DEPTH = 30;
const MINIMAP_H = 56;
const ERROR_RED = "#d62839";

declare global {
  interface Window {
    __ariadneWaterfall?: { spans: number; fetchMs: number; layoutMs: number; drawnAt: number };
  }
}

function ticks(from: number, to: number): number[] {
  const total = to - from;
  if (total <= 0) return [from];
  const raw = total / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => total / s <= 6) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(from / step - 1e-9) * step; t <= to + 1e-9; t += step) out.push(t);
  return out;
}

export async function render(ctx: PageContext): Promise<void> {
  const t0 = performance.now();
  const id = ctx.params.id;
  const status = h("p", { class: "muted loading" }, `Loading trace ${id}…`);
  ctx.root.append(status);
  let trace: Trace;
  try {
    trace = await getTrace(id, ctx.query.get("near"));
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
  const errorRows: number[] = [];
  for (let r = 0; r < layout.count; r++) if (isErrorSpan(spans[layout.order[r]])) errorRows.push(layout.order[r]);
  const layoutMs = performance.now() - tl;
  const rootRow = layout.count ? spans[layout.order[0]] : undefined;
  document.title = `${rootRow ? rootRow.service_name + ": " + rootRow.name : "Trace"} · Ariadne`;

  const services = trace.services.length ? trace.services : [...new Set(spans.map((s) => s.service_name))];
  const colors = traceColors([...services, ...spans.map((s) => s.service_name)]);
  const colorOf = (service: string) => colors.get(service) ?? "#888";

  const collapsed = new Set<number>();
  let rows = visibleRows(layout, collapsed);
  let selected = -1;
  let showCritical = true;
  let hits: number[] = [];
  let hitSet = new Set<number>();
  const total = layout.durationMs || 1;
  // The time window the waterfall shows (ms from the trace start); the minimap drag sets it.
  let v0 = 0;
  let v1 = total;
  const zoomParam = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(ctx.query.get("zoom") ?? "");
  if (zoomParam && Number(zoomParam[2]) > Number(zoomParam[1])) {
    v0 = Math.max(0, Number(zoomParam[1]));
    v1 = Math.min(total, Number(zoomParam[2]));
    if (v1 <= v0) [v0, v1] = [0, total];
  }
  const zoomed = () => v0 > 0 || v1 < total;

  // The URL: the selected span and the zoom (replaceState, so Back leaves the trace).
  const syncUrl = () => {
    const p = new URLSearchParams();
    if (selected >= 0) p.set("span", spans[selected].span_id);
    if (zoomed()) p.set("zoom", `${+v0.toFixed(3)}-${+v1.toFixed(3)}`);
    const qs = p.toString();
    setUrl(`${location.pathname}${qs ? `?${qs}` : ""}`, true);
  };

  // ---- header ----
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
      h("h1", null, rootRow ? h("span", null, h("span", { class: "dot", style: { background: colorOf(rootRow.service_name) } }), rootRow.service_name, ": ", rootRow.name) : "Trace"),
      h(
        "div",
        { class: "trace-meta" },
        h("span", null, h("b", null, formatDuration(trace.duration_ms)), " total"),
        h("span", { "data-testid": "span-count" }, h("b", null, formatNumber(spans.length)), " spans"),
        h("span", null, h("b", null, services.length), " services"),
        errorRows.length ? h("span", { class: "bad" }, h("b", null, errorRows.length), " errors") : null,
        h("span", null, formatTime(startMs)),
        h("span", { class: "mono small", title: "Trace id" }, trace.trace_id),
        trace.xray_trace_id ? h("span", { class: "mono small muted", title: "X-Ray trace id" }, trace.xray_trace_id) : null,
        layout.orphans ? h("span", { class: "warn", title: "Spans whose parent is not (yet) in the trace are shown as roots" }, `${layout.orphans} orphan spans`) : null,
      ),
    ),
    h(
      "div",
      { class: "trace-tools" },
      h("div", { class: "legend", "data-testid": "trace-legend" }, services.slice(0, 24).map((s) => h("span", { class: "tag", "data-service": s, "data-color": colorOf(s), style: { borderColor: colorOf(s) } }, h("span", { class: "dot", style: { background: colorOf(s) } }), s)), services.length > 24 ? h("span", { class: "muted small" }, `+${services.length - 24} more`) : null),
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

  // ---- find and errors ----
  const findInput = h("input", { type: "search", placeholder: "Find: name, service, key=value, error", "aria-label": "Find in trace", "data-testid": "find-input", spellcheck: "false", class: "find-input" });
  const findCount = h("span", { class: "muted small find-count", "data-testid": "find-count" });
  const errorCount = h("span", { class: "muted small", "data-testid": "error-position" }, errorRows.length ? `${errorRows.length} errors` : "no errors");
  const currentRow = () => (selected >= 0 ? layout.rowOf[selected] : scroller.scrollTop / ROW_H - 1);
  const goHit = (dir: 1 | -1) => {
    const i = stepHit(hits, layout.rowOf, currentRow(), dir);
    if (i >= 0) reveal(i);
  };
  const goError = (dir: 1 | -1) => {
    const i = stepHit(errorRows, layout.rowOf, currentRow(), dir);
    if (i >= 0) reveal(i);
  };
  let findTimer: ReturnType<typeof setTimeout> | undefined;
  const runFind = () => {
    hits = findSpans(spans, layout.order, findInput.value);
    hitSet = new Set(hits);
    updateCounts();
    drawMinimap();
    draw(true);
  };
  findInput.addEventListener("input", () => {
    clearTimeout(findTimer);
    findTimer = setTimeout(runFind, 120);
  });
  findInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(findTimer);
      if (hits.length === 0 || findSpans(spans, layout.order, findInput.value).length !== hits.length) runFind();
      goHit(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape") {
      findInput.value = "";
      runFind();
    }
  });
  const updateCounts = () => {
    const q = findInput.value.trim();
    const pos = hits.indexOf(selected);
    findCount.textContent = !q ? "" : hits.length === 0 ? "no match" : pos >= 0 ? `${pos + 1} of ${hits.length}` : `${hits.length} matches`;
    const e = errorRows.indexOf(selected);
    errorCount.textContent = errorRows.length ? (e >= 0 ? `error ${e + 1} of ${errorRows.length}` : `${errorRows.length} errors`) : "no errors";
  };
  const resetZoom = h("button", { type: "button", "data-testid": "zoom-reset", hidden: !zoomed(), onclick: () => setZoom(0, total) }, "Reset zoom");
  const findBar = h(
    "div",
    { class: "find-bar" },
    findInput,
    h("button", { type: "button", title: "Previous match (Shift+Enter)", "aria-label": "Previous match", "data-testid": "find-prev", onclick: () => goHit(-1) }, "↑"),
    h("button", { type: "button", title: "Next match (Enter)", "aria-label": "Next match", "data-testid": "find-next", onclick: () => goHit(1) }, "↓"),
    findCount,
    h("span", { class: "sep" }),
    h("button", { type: "button", class: "err-nav", "data-testid": "error-prev", disabled: !errorRows.length, title: "Previous error span", onclick: () => goError(-1) }, "◀ error"),
    h("button", { type: "button", class: "err-nav", "data-testid": "error-next", disabled: !errorRows.length, title: "Next error span", onclick: () => goError(1) }, "error ▶"),
    errorCount,
    h("span", { class: "nav-spacer" }),
    resetZoom,
    h("span", { class: "muted small zoom-label", "data-testid": "zoom-label" }),
  );

  // ---- minimap: every span as a thin line on the whole trace's time axis ----
  const mini = h("canvas", { class: "minimap-canvas", height: MINIMAP_H, "data-testid": "minimap" });
  const miniWindow = h("div", { class: "minimap-window", "data-testid": "minimap-window" });
  const miniBrush = h("div", { class: "minimap-brush", hidden: true });
  const miniView = h("div", { class: "minimap-view" });
  const minimap = h("div", { class: "minimap", title: "Drag across to zoom the time axis; click to jump to those spans" }, mini, miniView, miniWindow, miniBrush);
  const miniWrap = h("div", { class: "minimap-row" }, h("div", { class: "wf-label minimap-label muted small" }, "Whole trace · drag to zoom"), h("div", { class: "wf-timeline" }, minimap));

  // ---- waterfall ----
  const axisTimeline = h("div", { class: "wf-timeline" });
  const axis = h("div", { class: "wf-axis" }, h("div", { class: "wf-label" }, "Service / span"), axisTimeline);
  const spacer = h("div", { class: "wf-spacer" });
  const rowsLayer = h("div", { class: "wf-rows" });
  const scroller = h("div", { class: "wf-scroll", "data-testid": "waterfall", tabindex: 0 }, spacer, rowsLayer);
  const details = h("aside", { class: "span-details", hidden: true, "data-testid": "span-details" });
  const body = h("div", { class: "trace-body" }, h("div", { class: "wf" }, findBar, miniWrap, axis, scroller), details);
  status.replaceWith(header, body);

  const drawAxis = () => {
    const span = v1 - v0;
    axisTimeline.replaceChildren(...ticks(v0, v1).map((t, k) => h("span", { class: "tick" + (k === 0 && t <= v0 + 1e-9 ? " first" : ""), style: { left: `${((t - v0) / span) * 100}%` } }, formatDuration(t))));
    resetZoom.hidden = !zoomed();
    (body.querySelector('[data-testid="zoom-label"]') as HTMLElement).textContent = zoomed() ? `showing ${formatDuration(v0)} – ${formatDuration(v1)} of ${formatDuration(total)}` : "";
    const w = Math.max(1, minimap.clientWidth);
    miniWindow.style.left = `${(v0 / total) * w}px`;
    miniWindow.style.width = `${Math.max(2, ((v1 - v0) / total) * w)}px`;
    miniWindow.hidden = !zoomed();
  };

  const drawMinimap = () => {
    const w = Math.max(200, Math.floor(minimap.clientWidth || 800));
    const dpr = window.devicePixelRatio || 1;
    mini.width = Math.floor(w * dpr);
    mini.height = Math.floor(MINIMAP_H * dpr);
    mini.style.width = `${w}px`;
    mini.style.height = `${MINIMAP_H}px`;
    const g = mini.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, MINIMAP_H);
    const n = layout.count;
    const rowH = MINIMAP_H / Math.max(1, n);
    const lineH = Math.max(1, Math.min(4, rowH));
    // Batch by colour: one path per service, errors last so they stay visible.
    const byColor = new Map<string, number[]>();
    for (let r = 0; r < n; r++) {
      const i = layout.order[r];
      const c = isErrorSpan(spans[i]) ? ERROR_RED : colorOf(spans[i].service_name);
      let list = byColor.get(c);
      if (!list) byColor.set(c, (list = []));
      list.push(r);
    }
    const paint = (c: string, list: number[]) => {
      g.fillStyle = c;
      for (const r of list) {
        const i = layout.order[r];
        const x = (layout.start[i] / total) * w;
        const xw = Math.max(1, ((layout.end[i] - layout.start[i]) / total) * w);
        g.fillRect(x, r * rowH, xw, lineH);
      }
    };
    for (const [c, list] of byColor) if (c !== ERROR_RED) paint(c, list);
    if (byColor.has(ERROR_RED)) paint(ERROR_RED, byColor.get(ERROR_RED)!);
    if (hits.length) {
      g.fillStyle = "#f5c400";
      for (const i of hits) g.fillRect(0, layout.rowOf[i] * rowH, 4, Math.max(2, lineH));
    }
  };

  const drawView = () => {
    // The rows the waterfall shows, as a band on the minimap (rows hidden by collapsing aside).
    const n = Math.max(1, rows.length);
    const top = scroller.scrollTop / ROW_H / n;
    const h2 = (scroller.clientHeight || 600) / ROW_H / n;
    miniView.style.top = `${Math.min(1, top) * MINIMAP_H}px`;
    miniView.style.height = `${Math.max(2, Math.min(1, h2) * MINIMAP_H)}px`;
  };

  const setZoom = (a: number, b: number) => {
    v0 = Math.max(0, Math.min(a, b));
    v1 = Math.min(total, Math.max(a, b));
    if (v1 - v0 < total / 1e6) [v0, v1] = [0, total];
    drawAxis();
    draw(true);
    syncUrl();
  };

  // Drag on the minimap: zoom to the dragged time range; a click: scroll to that part of the trace.
  let drag: { x: number; left: number } | null = null;
  minimap.addEventListener("mousedown", (e) => {
    e.preventDefault();
    const r = minimap.getBoundingClientRect();
    drag = { x: e.clientX - r.left, left: r.left };
    miniBrush.hidden = false;
    miniBrush.style.left = `${drag.x}px`;
    miniBrush.style.width = "0px";
  });
  const onMove = (e: MouseEvent) => {
    if (!drag) return;
    const x = Math.max(0, Math.min(minimap.clientWidth, e.clientX - drag.left));
    miniBrush.style.left = `${Math.min(x, drag.x)}px`;
    miniBrush.style.width = `${Math.abs(x - drag.x)}px`;
  };
  const onUp = (e: MouseEvent) => {
    if (!drag) return;
    const w = Math.max(1, minimap.clientWidth);
    const x = Math.max(0, Math.min(w, e.clientX - drag.left));
    const x0 = drag.x;
    drag = null;
    miniBrush.hidden = true;
    if (Math.abs(x - x0) >= 4) {
      setZoom((Math.min(x, x0) / w) * total, (Math.max(x, x0) / w) * total);
    } else {
      const r = minimap.getBoundingClientRect();
      const frac = (e.clientY - r.top) / MINIMAP_H;
      const span = layout.order[Math.max(0, Math.min(layout.count - 1, Math.floor(frac * layout.count)))];
      if (span !== undefined) reveal(span, false);
    }
  };
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  ctx.onLeave(() => {
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
  });

  let lastFirst = -1;
  let lastLast = -1;
  const draw = (force = false) => {
    spacer.style.height = `${rows.length * ROW_H}px`;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    drawView();
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
    const color = colorOf(s.service_name);
    const span = v1 - v0;
    const left = ((layout.start[i] - v0) / span) * 100;
    const width = Math.max(((layout.end[i] - layout.start[i]) / span) * 100, 0.15);
    const hasKids = layout.childCount[i] > 0;
    const toggle = hasKids
      ? h("button", { type: "button", class: "tw", "data-toggle": i, "aria-label": collapsed.has(i) ? "Expand" : "Collapse" }, collapsed.has(i) ? "▸" : "▾")
      : h("span", { class: "tw" });
    const onPath = showCritical && critical.has(i);
    const indent = Math.min(depth, MAX_INDENT_DEPTH) * INDENT;
    const durLeft = Math.min(100, left + width);
    return h(
      "div",
      {
        class: "wf-row" + (isErr ? " err" : "") + (i === selected ? " sel" : "") + (onPath ? " crit" : "") + (hitSet.has(i) ? " hit" : ""),
        style: { top: `${r * ROW_H}px` },
        "data-span": i,
        "data-depth": depth,
        "data-span-id": s.span_id,
        "data-parent-id": s.parent_span_id,
        "data-service": s.service_name,
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
        left + width < 0 || left > 100 ? null : h("div", { class: "bar", style: { left: `${left}%`, width: `${width}%`, background: isErr ? ERROR_RED : color } }),
        h("span", { class: "dur", style: durLeft > 80 ? { right: `${Math.max(0, 100 - Math.max(0, left)) + 0.5}%` } : { left: `${Math.max(0, durLeft) + 0.5}%` } }, formatDuration(layout.end[i] - layout.start[i])),
      ),
    );
  };

  // Selects span i: expands its ancestors, scrolls it into view (centred when `center`), shows
  // its details and puts it in the URL.
  const reveal = (i: number, select = true) => {
    let changed = false;
    for (let p = layout.parent[i]; p >= 0; p = layout.parent[p]) if (collapsed.delete(p)) changed = true;
    if (changed) rows = visibleRows(layout, collapsed);
    const r = rows.indexOf(i);
    if (r >= 0) {
      const y = r * ROW_H;
      if (y < scroller.scrollTop || y + ROW_H > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 2);
    }
    // A span outside the zoomed window brings the whole trace back.
    if (select && (layout.end[i] < v0 || layout.start[i] > v1)) {
      v0 = 0;
      v1 = total;
      drawAxis();
    }
    if (select) selectSpan(i);
    else draw(true);
  };

  const selectSpan = (i: number) => {
    selected = i;
    if (i >= 0) showDetails(spans[i], i);
    else details.hidden = true;
    updateCounts();
    syncUrl();
    draw(true);
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
    selectSpan(Number(row.dataset.span));
  });
  scroller.addEventListener("keydown", (e) => {
    if (selected < 0 || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
    e.preventDefault();
    const pos = rows.indexOf(selected);
    const next = rows[Math.max(0, Math.min(rows.length - 1, pos + (e.key === "ArrowDown" ? 1 : -1)))];
    if (next === undefined) return;
    const r = rows.indexOf(next);
    if (r * ROW_H < scroller.scrollTop) scroller.scrollTop = r * ROW_H;
    else if ((r + 1) * ROW_H > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = (r + 1) * ROW_H - scroller.clientHeight;
    selectSpan(next);
  });
  // "/" focuses the find box (outside other fields).
  const onKey = (e: KeyboardEvent) => {
    const t = e.target as HTMLElement | null;
    if (e.key === "/" && !(t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable))) {
      e.preventDefault();
      findInput.focus();
    }
  };
  document.addEventListener("keydown", onKey);
  const onResize = () => {
    drawMinimap();
    drawAxis();
    draw(true);
  };
  window.addEventListener("resize", onResize);
  ctx.onLeave(() => {
    window.removeEventListener("resize", onResize);
    document.removeEventListener("keydown", onKey);
  });

  const showDetails = (s: Span, i: number) => {
    details.hidden = false;
    renderSpanDetails(details, s, {
      color: colorOf(s.service_name),
      startOffsetMs: layout.start[i],
      critical: critical.has(i),
      xrayTraceId: trace.xray_trace_id || trace.trace_id,
      onClose: () => selectSpan(-1),
    });
  };

  drawAxis();
  draw(true);
  // The span named in the URL (a shared link or a reload).
  const wanted = ctx.query.get("span");
  if (wanted) {
    const i = spans.findIndex((s) => s.span_id === wanted);
    if (i >= 0) reveal(i);
  }
  requestAnimationFrame(() => {
    window.__ariadneWaterfall = { spans: spans.length, fetchMs, layoutMs, drawnAt: performance.now() };
    scroller.dataset.drawn = "true";
    // The minimap after the first paint: it does not hold up the rows.
    requestAnimationFrame(() => {
      drawMinimap();
      drawAxis();
      drawView();
      mini.dataset.drawn = "true";
    });
  });
}
