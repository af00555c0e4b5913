// The trace list shared by the Traces page and the query page's Traces tab: start, root span,
// services, spans, errors, duration and id; rows open the waterfall; the Start, Duration, Spans
// and Errors headers sort the list (newest first by default).
import type { TraceSummary } from "../api";
import { formatDuration, formatNumber, formatTime, h, link, serviceColor } from "../dom";
import { traceViewHref } from "../lib/traceLinks";
import { DEFAULT_SORT, nextSort, sortTraces, type SortKey, type TraceSort } from "../lib/traceSort";
import { navigate } from "../nav";

export interface TraceListOptions {
  testid: string; // data-testid of the table
  sort?: TraceSort;
  onSort?: (sort: TraceSort) => void; // e.g. to put the sort in the URL
}

const toMs = (ns: string) => Number(BigInt(ns) / 1000000n);

const SORT_LABEL: Record<SortKey, string> = { start: "newest first", duration: "longest first", spans: "most spans first", errors: "most errors first" };
const SORT_LABEL_ASC: Record<SortKey, string> = { start: "oldest first", duration: "shortest first", spans: "fewest spans first", errors: "fewest errors first" };

export function describeSort(s: TraceSort): string {
  return (s.dir === "desc" ? SORT_LABEL : SORT_LABEL_ASC)[s.key];
}

export function traceList(traces: TraceSummary[], opts: TraceListOptions): HTMLElement {
  let sort = opts.sort ?? DEFAULT_SORT;
  const tbody = h("tbody");
  const caption = h("p", { class: "muted small", "data-testid": `${opts.testid}-caption` });
  const headers = new Map<SortKey, HTMLElement>();
  const th = (label: string, key?: SortKey, num = false) => {
    const el = h("th", { class: (num ? "num" : "") + (key ? " sortable" : ""), "data-sort": key, title: key ? `Sort by ${label.toLowerCase()}` : undefined, tabindex: key ? 0 : undefined, "aria-sort": "none" }, label, key ? h("span", { class: "arrow" }) : null);
    if (key) {
      headers.set(key, el);
      const go = () => {
        sort = nextSort(sort, key);
        opts.onSort?.(sort);
        draw();
      };
      el.addEventListener("click", go);
      el.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          go();
        }
      });
    }
    return el;
  };
  const head = h("tr", null, th("Start", "start"), th("Root"), th("Services"), th("Spans", "spans", true), th("Errors", "errors", true), th("Duration", "duration", true), th("Trace id"));
  const draw = () => {
    for (const [key, el] of headers) {
      const on = key === sort.key;
      el.classList.toggle("sorted", on);
      el.setAttribute("aria-sort", on ? (sort.dir === "asc" ? "ascending" : "descending") : "none");
      (el.querySelector(".arrow") as HTMLElement).textContent = on ? (sort.dir === "asc" ? "▲" : "▼") : "";
    }
    caption.textContent = `${traces.length} trace${traces.length === 1 ? "" : "s"}, ${describeSort(sort)}`;
    tbody.replaceChildren(
      ...sortTraces(traces, sort).map((t) => {
        const start = toMs(t.start_time_unix_nano);
        const tr = h(
          "tr",
          { class: "clickable" + (t.error_count ? " has-error" : ""), "data-trace": t.trace_id, "data-duration": t.duration_ms, "data-start": start, "data-spans": t.span_count, "data-errors": t.error_count },
          h("td", { class: "nowrap" }, formatTime(start)),
          h("td", null, h("span", { class: "dot", style: { background: serviceColor(t.root_service) } }), h("b", null, t.root_service), " ", t.root_name),
          h("td", null, t.services.map((s) => h("span", { class: "tag", style: { borderColor: serviceColor(s) } }, s))),
          h("td", { class: "num" }, formatNumber(t.span_count)),
          h("td", { class: "num" + (t.error_count ? " bad" : "") }, formatNumber(t.error_count)),
          h("td", { class: "num" }, formatDuration(t.duration_ms)),
          h("td", { class: "mono" }, link(traceViewHref(t), t.trace_id.slice(0, 16) + "…")),
        );
        tr.addEventListener("click", (e) => {
          if ((e.target as Element).closest("a")) return;
          navigate(traceViewHref(t));
        });
        return tr;
      }),
    );
  };
  draw();
  return h("div", { class: "trace-list" }, caption, h("table", { class: "grid traces-table", "data-testid": opts.testid }, h("thead", null, head), tbody));
}
