// Charts on uPlot: line charts per group, sparklines, the HEATMAP (a uPlot series whose path
// function fills one rectangle per time × value bucket) with drag-to-select, and the
// duration-over-time scatter of the trace search.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatDuration, formatNumber } from "../dom";

export const SERIES_COLORS = [
  "#3b6fd4", "#e8743b", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4", "#c4a000", "#6c8893",
  "#bf399e", "#525df4", "#2e8540", "#d4526e",
];

function widthOf(el: HTMLElement, fallback = 800): number {
  return Math.max(200, Math.floor(el.clientWidth || el.getBoundingClientRect().width || fallback));
}

// Keeps a chart as wide as its container.
function autoResize(u: uPlot, el: HTMLElement, height: number): () => void {
  const ro = new ResizeObserver(() => {
    const w = widthOf(el);
    if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
  });
  ro.observe(el);
  return () => {
    ro.disconnect();
    u.destroy();
  };
}

function isolated(values: (number | null)[]): boolean {
  const has = (i: number) => i >= 0 && i < values.length && values[i] !== null && values[i] !== undefined;
  return values.some((_, i) => has(i) && !has(i - 1) && !has(i + 1));
}

export function sparkline(
  el: HTMLElement,
  times: number[],
  values: (number | null)[],
  color: string,
  width = 140,
  height = 32,
): () => void {
  const u = new uPlot(
    {
      width,
      height,
      class: "spark",
      pxAlign: false,
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      legend: { show: false },
      scales: { x: { time: false }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{ show: false }, { show: false }],
      // A value with no neighbours (a P99 in one busy minute) draws no line: show it as a dot.
      series: [{}, { stroke: color, fill: color + "22", width: 1.5, spanGaps: false, points: { show: isolated(values), size: 4, fill: color } }],
    },
    [times, values],
    el,
  );
  return () => u.destroy();
}

export interface LineSeries {
  label: string;
  values: (number | null)[];
}

export function lineChart(
  el: HTMLElement,
  times: number[],
  series: LineSeries[],
  opts: {
    height?: number;
    yFormat?: (v: number) => string;
    title?: string;
    // A click on the plot: the time bucket under the cursor and the line nearest to it.
    onPoint?: (p: { index: number; time: number; series: number }) => void;
    // A drag across the plot: the time range it covers (Unix seconds), e.g. to run the query
    // over it. Without it a drag zooms the picture.
    onRange?: (start: number, end: number) => void;
  } = {},
): () => void {
  const height = opts.height ?? 260;
  const fmt = opts.yFormat ?? ((v: number) => formatNumber(v));
  const u = new uPlot(
    {
      title: opts.title,
      width: widthOf(el),
      height,
      scales: { x: { time: true } },
      cursor: opts.onRange ? { drag: { x: true, y: false, setScale: false } } : undefined,
      hooks: opts.onRange ? { setSelect: [rangeHook(opts.onRange)] } : undefined,
      axes: [
        { stroke: AXIS, grid: { stroke: GRID() } },
        { stroke: AXIS, grid: { stroke: GRID() }, size: 64, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length],
          width: 1.75,
          points: { show: times.length < 40 },
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : fmt(v)),
        })),
      ],
    },
    [times, ...series.map((s) => s.values)],
    el,
  );
  (el as HTMLElement & { __uplot?: uPlot }).__uplot = u;
  if (opts.onPoint) {
    const onPoint = opts.onPoint;
    onClickWithoutDrag(u.over, (ev) => {
      const rect = u.over.getBoundingClientRect();
      const x = ev.clientX - rect.left;
      const y = ev.clientY - rect.top;
      // The nearest bucket that has a value, then the line nearest to the cursor there.
      let best = -1;
      let bestD = Infinity;
      for (let i = 0; i < times.length; i++) {
        if (!series.some((s) => s.values[i] !== null && s.values[i] !== 0)) continue;
        const d = Math.abs(u.valToPos(times[i], "x") - x);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best < 0 || bestD > 40) return;
      let line = -1;
      let lineD = Infinity;
      series.forEach((s, k) => {
        const v = s.values[best];
        if (v === null || !u.series[k + 1].show) return;
        const d = Math.abs(u.valToPos(v, "y") - y);
        if (d < lineD) {
          lineD = d;
          line = k;
        }
      });
      if (line >= 0) onPoint({ index: best, time: times[best], series: line });
    });
    u.over.style.cursor = "pointer";
  }
  return autoResize(u, el, height);
}

// A setSelect hook that reports the selected x range (seconds) and clears the selection box.
function rangeHook(fn: (start: number, end: number) => void) {
  return (u: uPlot) => {
    const s = u.select;
    if (s.width < 3) return;
    const a = u.posToVal(s.left, "x");
    const b = u.posToVal(s.left + s.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    fn(a, b);
  };
}

// Axis and grid colours that read on the light and the dark theme.
const AXIS = "#7d8597";
const GRID = () => (getComputedStyle(document.documentElement).getPropertyValue("--line2").trim() || "#eef0f4");

// Calls `fn` for a click that was not the end of a drag (uPlot selects by dragging).
function onClickWithoutDrag(el: HTMLElement, fn: (ev: MouseEvent) => void): void {
  let down: { x: number; y: number } | null = null;
  el.addEventListener("mousedown", (ev) => (down = { x: ev.clientX, y: ev.clientY }));
  el.addEventListener("mouseup", (ev) => {
    if (down && Math.abs(ev.clientX - down.x) < 3 && Math.abs(ev.clientY - down.y) < 3) fn(ev);
    down = null;
  });
}

export interface HeatmapData {
  times: number[]; // bucket starts, seconds
  step: number; // seconds per time bucket
  // counts[t] = list of {lower, upper, count}
  cells: { lower: number; upper: number; count: number }[][];
}

export interface HeatmapSelection {
  startTime: number;
  endTime: number;
  min: number;
  max: number;
}

function heatColor(frac: number): string {
  // From pale blue to deep indigo/violet to red for the hottest cells.
  const stops = [
    [224, 236, 255],
    [122, 160, 245],
    [72, 72, 200],
    [150, 40, 160],
    [220, 40, 60],
  ];
  const x = Math.max(0, Math.min(1, frac)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const t = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function heatmapChart(
  el: HTMLElement,
  data: HeatmapData,
  opts: {
    height?: number;
    column: string;
    onSelect?: (s: HeatmapSelection) => void;
    // A click on one cell (no drag): that cell's time bucket and value bucket.
    onCell?: (s: HeatmapSelection) => void;
  },
): () => void {
  const height = opts.height ?? 300;
  let ymin = Infinity;
  let ymax = -Infinity;
  let cmax = 0;
  for (const col of data.cells)
    for (const c of col) {
      if (c.count <= 0) continue;
      ymin = Math.min(ymin, c.lower);
      ymax = Math.max(ymax, c.upper);
      cmax = Math.max(cmax, c.count);
    }
  if (!isFinite(ymin)) {
    ymin = 0;
    ymax = 1;
  }
  const isDuration = opts.column === "duration_ms";
  const fmt = (v: number) => (isDuration ? formatDuration(v) : formatNumber(v));
  const logMax = Math.log1p(cmax);
  const drawCells = (u: uPlot) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    for (let t = 0; t < data.times.length; t++) {
      const x0 = u.valToPos(data.times[t], "x", true);
      const x1 = u.valToPos(data.times[t] + data.step, "x", true);
      for (const c of data.cells[t]) {
        if (c.count <= 0) continue;
        const y0 = u.valToPos(c.upper, "y", true);
        const y1 = u.valToPos(c.lower, "y", true);
        ctx.fillStyle = heatColor(Math.log1p(c.count) / logMax);
        ctx.fillRect(x0, y0, Math.max(1, x1 - x0 - 0.5), Math.max(1, y1 - y0 - 0.5));
      }
    }
    ctx.restore();
  };
  const start = data.times[0] ?? 0;
  const end = (data.times[data.times.length - 1] ?? 0) + data.step;
  const u = new uPlot(
    {
      width: widthOf(el),
      height,
      scales: {
        x: { time: true, range: [start, end] },
        y: { range: [ymin, ymax + (ymax - ymin) * 0.02] },
      },
      cursor: { drag: { x: true, y: true, setScale: false }, points: { show: false } },
      legend: { show: false },
      axes: [
        { stroke: AXIS, grid: { show: false } },
        { stroke: AXIS, grid: { stroke: GRID() }, size: 64, values: (_u, vals) => vals.map(fmt) },
      ],
      series: [{}, { label: opts.column, stroke: "transparent", paths: () => null, points: { show: false } }],
      hooks: {
        drawClear: [],
        draw: [drawCells],
        setSelect: [
          (u) => {
            const s = u.select;
            if (s.width < 3 || s.height < 3 || !opts.onSelect) return;
            opts.onSelect({
              startTime: u.posToVal(s.left, "x"),
              endTime: u.posToVal(s.left + s.width, "x"),
              max: u.posToVal(s.top, "y"),
              min: u.posToVal(s.top + s.height, "y"),
            });
          },
        ],
      },
    },
    [data.times, data.times.map(() => null)],
    el,
  );
  (el as HTMLElement & { __uplot?: uPlot }).__uplot = u;
  if (opts.onCell) {
    const onCell = opts.onCell;
    onClickWithoutDrag(u.over, (ev) => {
      const rect = u.over.getBoundingClientRect();
      const t = u.posToVal(ev.clientX - rect.left, "x");
      const v = u.posToVal(ev.clientY - rect.top, "y");
      const i = data.times.findIndex((start) => t >= start && t < start + data.step);
      if (i < 0) return;
      const cell = data.cells[i].find((c) => c.count > 0 && v >= c.lower && v <= c.upper);
      if (cell) onCell({ startTime: data.times[i], endTime: data.times[i] + data.step, min: cell.lower, max: cell.upper });
    });
  }
  return autoResize(u, el, height);
}

export interface ScatterPoint {
  time: number; // seconds
  value: number; // ms
  error: boolean;
  id: string;
}

export function scatterChart(
  el: HTMLElement,
  points: ScatterPoint[],
  opts: {
    height?: number;
    onClick?: (p: ScatterPoint) => void;
    range?: [number, number];
    // A drag across the plot: its time range (Unix seconds).
    onRange?: (start: number, end: number) => void;
  },
): () => void {
  const height = opts.height ?? 220;
  const sorted = [...points].sort((a, b) => a.time - b.time);
  const xs = sorted.map((p) => p.time);
  const ok = sorted.map((p) => (p.error ? null : p.value));
  const bad = sorted.map((p) => (p.error ? p.value : null));
  const dots = (color: string) => ({
    stroke: color,
    fill: color + "aa",
    paths: () => null,
    points: { show: true, size: 8, width: 1, stroke: color, fill: color + "88" },
  });
  const u = new uPlot(
    {
      width: widthOf(el),
      height,
      scales: {
        x: { time: true, range: opts.range ? () => opts.range! : undefined },
        y: {
          distr: 3,
          log: 10,
          range: (_u, min, max) => [
            Math.pow(10, Math.floor(Math.log10(Math.max(0.001, min || 0.001)))),
            Math.pow(10, Math.ceil(Math.log10(Math.max(1, max || 1)))),
          ],
        },
      },
      cursor: { points: { show: false }, drag: { x: !!opts.onRange, y: false, setScale: false } },
      hooks: opts.onRange ? { setSelect: [rangeHook(opts.onRange)] } : undefined,
      axes: [
        { stroke: AXIS, grid: { stroke: GRID() } },
        {
          stroke: AXIS,
          grid: { stroke: GRID() },
          size: 64,
          // Label the decades only (1ms, 10ms, 100ms, 1s …).
          values: (_u, vals) =>
            vals.map((v) => (Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-6 ? formatDuration(v) : "")),
        },
      ],
      series: [
        {},
        { label: "traces", ...dots("#3b6fd4"), value: (_u: uPlot, v: number | null) => (v === null ? "–" : formatDuration(v)) },
        { label: "with errors", ...dots("#d62839"), value: (_u: uPlot, v: number | null) => (v === null ? "–" : formatDuration(v)) },
      ],
    },
    [xs, ok, bad],
    el,
  );
  const nearest = (ev: MouseEvent): ScatterPoint | null => {
    const rect = u.over.getBoundingClientRect();
    const mx = ev.clientX - rect.left;
    const my = ev.clientY - rect.top;
    let best: ScatterPoint | null = null;
    let bestD = 14 * 14;
    for (const p of sorted) {
      const dx = u.valToPos(p.time, "x") - mx;
      const dy = u.valToPos(p.value, "y") - my;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = p;
      }
    }
    return best;
  };
  onClickWithoutDrag(u.over, (ev) => {
    const p = nearest(ev);
    if (p && opts.onClick) opts.onClick(p);
  });
  (el as HTMLElement & { __uplot?: uPlot }).__uplot = u;
  u.over.addEventListener("mousemove", (ev) => {
    u.over.style.cursor = nearest(ev) ? "pointer" : "crosshair";
  });
  return autoResize(u, el, height);
}
