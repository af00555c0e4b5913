// The span panel of the trace view: facts, the X-Ray segment fields in their own sections
// (annotations, metadata, HTTP, AWS, cause, other X-Ray fields; lib/spanSections.ts), attributes,
// events, links and resource, each value linking to "query by this value", and the raw document
// one click away (the X-Ray segment as BatchGetTraces returns it, or the span as stored).
import { xray, type Attribute, type Span } from "../api";
import { fill, formatDuration, h, link } from "../dom";
import { defaultState, stateToParams } from "../lib/queryUrl";
import { attributeSections } from "../lib/spanSections";
import { isErrorSpan } from "../lib/traceFind";

export interface SpanDetailsOptions {
  color: string; // the service's colour in this trace
  startOffsetMs: number; // from the trace's start
  critical: boolean; // on the critical path
  xrayTraceId: string; // for the raw X-Ray document
  onClose: () => void;
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

function attrTable(attrs: Attribute[], service?: string, strip = ""): HTMLElement {
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
          h("td", { class: "k", title: a.key }, strip && a.key.startsWith(strip) ? a.key.slice(strip.length) : a.key),
          h("td", { class: "t" }, a.type),
          h("td", { class: "v" }, h("span", { class: "val" }, attrValue(a)), " ",
            link(queryByValue(a.key, a, service), h("span", { class: "q", title: `Query spans where ${a.key} = this value` }, "query"))),
        ),
      ),
    ),
  );
}

// The X-Ray segment document of one span (a segment or a subsegment nested in one), from
// BatchGetTraces (POST /api/v1/xray/Traces).
async function xrayDocument(xrayTraceId: string, spanId: string): Promise<unknown> {
  const r = await xray<{ Traces?: { Segments?: { Id: string; Document: string }[] }[] }>("Traces", { TraceIds: [xrayTraceId] });
  const find = (doc: Record<string, unknown>): unknown => {
    if (doc.id === spanId) return doc;
    for (const sub of (doc.subsegments as Record<string, unknown>[] | undefined) ?? []) {
      const hit = find(sub);
      if (hit) return hit;
    }
    return undefined;
  };
  for (const t of r.Traces ?? [])
    for (const seg of t.Segments ?? []) {
      const hit = find(JSON.parse(seg.Document));
      if (hit) return hit;
    }
  return undefined;
}

const section = (title: string, attrs: Attribute[], service: string, strip = "", testid?: string) =>
  attrs.length ? [h("h3", { "data-section": testid }, `${title} (${attrs.length})`), attrTable(attrs, service, strip)] : null;

export function renderSpanDetails(el: HTMLElement, s: Span, o: SpanDetailsOptions): void {
  const parts = attributeSections(s.attributes);
  const isErr = isErrorSpan(s);
  const isXray = s.attributes.some((a) => a.key === "aws.xray.type") || s.resource.attributes.some((a) => a.key === "aws.xray.origin");
  const spanStartNs = BigInt(s.start_time_unix_nano);
  const exceptions = s.events.filter((ev) => ev.name === "exception");
  const others = s.events.filter((ev) => ev.name !== "exception");
  const raw = h("pre", { class: "raw-doc", "data-testid": "raw-json", hidden: true });
  const rawButton = h("button", { type: "button", class: "link-button", "data-testid": "raw-document" }, isXray ? "Raw segment document" : "Raw span JSON");
  rawButton.addEventListener("click", async () => {
    if (!raw.hidden) {
      raw.hidden = true;
      return;
    }
    raw.hidden = false;
    if (!isXray) {
      raw.textContent = JSON.stringify(s, null, 2);
      return;
    }
    raw.textContent = "Loading the segment document…";
    try {
      const doc = await xrayDocument(o.xrayTraceId, s.span_id);
      raw.textContent = doc ? JSON.stringify(doc, null, 2) : "The X-Ray API has no document for this span; the span as stored:\n" + JSON.stringify(s, null, 2);
    } catch (e) {
      raw.textContent = `Could not read the segment document (${(e as Error).message}); the span as stored:\n` + JSON.stringify(s, null, 2);
    }
  });
  fill(el,
    h(
      "div",
      { class: "details-head" },
      h("button", { type: "button", class: "close", title: "Close", onclick: o.onClose }, "×"),
      h("h2", null, s.name),
      h("div", null, h("span", { class: "dot", style: { background: o.color } }), h("b", null, s.service_name), ` · ${s.kind.replace("SPAN_KIND_", "").toLowerCase()}`, isXray ? h("span", { class: "tag xray-tag" }, "X-Ray") : null),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", null, "Duration"), h("dd", null, formatDuration(s.duration_ms)),
      h("dt", null, "Starts at"), h("dd", null, `+${formatDuration(o.startOffsetMs)}`),
      h("dt", null, "Status"), h("dd", { class: isErr ? "bad" : "" }, s.status.code.toUpperCase() + (s.status.message ? `: ${s.status.message}` : "")),
      h("dt", null, "Span id"), h("dd", { class: "mono" }, s.span_id),
      h("dt", null, "Parent"), h("dd", { class: "mono" }, s.parent_span_id || "(root)"),
      h("dt", null, "Scope"), h("dd", null, [s.scope?.name, s.scope?.version].filter(Boolean).join(" ") || "–"),
      o.critical ? [h("dt", null, "Critical path"), h("dd", null, "yes")] : null,
    ),
    h("div", { class: "raw-line" }, rawButton),
    raw,
    section("X-Ray annotations", parts.annotations, s.service_name, "annotation.", "annotations"),
    section("X-Ray metadata", parts.metadata, s.service_name, "aws.xray.metadata.", "metadata"),
    section("HTTP", parts.http, s.service_name, "", "http"),
    section("AWS", parts.aws, s.service_name, "", "aws"),
    parts.cause.length || (isXray && exceptions.length)
      ? [
          h("h3", { "data-section": "cause", class: "bad-title" }, `Cause (${parts.cause.length + exceptions.length})`),
          parts.cause.length ? attrTable(parts.cause, s.service_name) : null,
          exceptions.length
            ? h("ul", { class: "events" }, exceptions.map((ev) => h("li", { class: "bad" }, h("b", null, ev.name), attrTable(ev.attributes))))
            : null,
        ]
      : null,
    section("X-Ray segment", parts.xray, s.service_name, "aws.xray.", "xray"),
    h("h3", null, `Attributes (${parts.other.length})`),
    attrTable(parts.other, s.service_name),
    h("h3", null, `Events (${isXray ? others.length : s.events.length})`),
    (isXray ? others : s.events).length
      ? h(
          "ul",
          { class: "events" },
          (isXray ? others : s.events).map((ev) =>
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
    attrTable(s.resource.attributes, s.service_name),
  );
}
