// Time range picker: presets (last 5 minutes … last 7 days) or an absolute range.
import { h } from "../dom";

export const PRESETS: [number, string][] = [
  [300, "Last 5 minutes"],
  [900, "Last 15 minutes"],
  [3600, "Last hour"],
  [7200, "Last 2 hours"],
  [21600, "Last 6 hours"],
  [86400, "Last 24 hours"],
  [172800, "Last 2 days"],
  [604800, "Last 7 days"],
];

export interface TimeRange {
  range: number;
  start?: number;
  end?: number;
}

function toLocalInput(unix: number): string {
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function timePicker(value: TimeRange, onChange: (v: TimeRange) => void): HTMLElement {
  const absolute = value.start !== undefined && value.end !== undefined;
  const select = h(
    "select",
    { class: "timepicker", "aria-label": "Time range" },
    ...PRESETS.map(([secs, label]) =>
      h("option", { value: String(secs), selected: !absolute && secs === value.range }, label),
    ),
    h("option", { value: "custom", selected: absolute }, "Custom range…"),
  );
  if (!absolute && !PRESETS.some(([s]) => s === value.range)) {
    select.insertBefore(h("option", { value: String(value.range), selected: true }, `Last ${value.range}s`), select.firstChild);
  }
  const now = Math.floor(Date.now() / 1000);
  const from = h("input", { type: "datetime-local", value: toLocalInput(value.start ?? now - value.range) });
  const to = h("input", { type: "datetime-local", value: toLocalInput(value.end ?? now) });
  const apply = h("button", { type: "button" }, "Apply");
  const custom = h("span", { class: "custom-range", hidden: !absolute }, from, "→", to, apply);
  select.addEventListener("change", () => {
    if (select.value === "custom") {
      custom.hidden = false;
      return;
    }
    custom.hidden = true;
    onChange({ range: Number(select.value) });
  });
  apply.addEventListener("click", () => {
    const start = Math.floor(new Date(from.value).getTime() / 1000);
    const end = Math.floor(new Date(to.value).getTime() / 1000);
    if (isFinite(start) && isFinite(end) && end > start) onChange({ range: end - start, start, end });
  });
  return h("span", { class: "timepicker-wrap" }, select, custom);
}

export function resolveRange(v: TimeRange): [number, number] {
  if (v.start !== undefined && v.end !== undefined) return [v.start, v.end];
  const now = Math.floor(Date.now() / 1000);
  return [now - v.range, now];
}
