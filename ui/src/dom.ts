// A tiny DOM builder: h("div", {class: "x", onclick: fn}, child, "text", [more]).

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value as EventListener);
      } else if (key === "style" && typeof value === "object") {
        Object.assign(el.style, value);
      } else if (key === "value" && "value" in el) {
        (el as HTMLInputElement).value = String(value);
      } else if (key === "checked" && "checked" in el) {
        (el as HTMLInputElement).checked = Boolean(value);
      } else {
        el.setAttribute(key, value === true ? "" : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

// A link handled by the client-side router.
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href, "data-link": true }, ...children);
}

export function formatDuration(ms: number): string {
  if (!isFinite(ms)) return "–";
  if (ms === 0) return "0";
  const abs = Math.abs(ms);
  if (abs < 1) return `${(ms * 1000).toFixed(abs * 1000 < 9.95 ? 1 : 0)}µs`;
  if (abs < 1000) return `${ms.toFixed(abs < 10 ? 2 : abs < 100 ? 1 : 0)}ms`;
  if (abs < 60000) return `${(ms / 1000).toFixed(2)}s`;
  return `${(ms / 60000).toFixed(1)}min`;
}

export function formatNumber(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v.toLocaleString("en-US");
    const abs = Math.abs(v);
    return v.toLocaleString("en-US", {
      maximumFractionDigits: abs >= 100 ? 1 : abs >= 1 ? 2 : 4,
    });
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1) return `${formatNumber(Math.round(perSecond * 10) / 10)}/s`;
  if (perSecond * 60 >= 1) return `${formatNumber(Math.round(perSecond * 600) / 10)}/min`;
  return `${formatNumber(Math.round(perSecond * 36000) / 10)}/h`;
}

export function formatTime(unixMs: number): string {
  const d = new Date(unixMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Stable colours per service (lib/colors.ts; one trace uses traceColors, which never repeats).
export { serviceColor } from "./lib/colors";

// Copy-to-clipboard block used by the empty states.
export function copyBlock(text: string): HTMLElement {
  const button = h("button", { class: "copy", type: "button", title: "Copy to clipboard" }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      button.textContent = "Selected — press Ctrl+C";
    }
    setTimeout(() => (button.textContent = "Copy"), 2000);
  });
  const pre = h("pre", null, text);
  return h("div", { class: "copyblock" }, pre, button);
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Replaces an element's children (accepts the same children as h()).
export function fill(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}
