// Find in a trace: which spans a search text matches, for the waterfall's search box.
//
//   error / is:error        spans with error status
//   KEY=VALUE               an attribute (span or resource) whose value equals VALUE (as text)
//   KEY=                    spans that have attribute KEY
//   anything else           a case-insensitive substring of the span name, its service, its span
//                           id or any attribute value
// Several terms separated by spaces must all match.
export interface FindAttribute {
  key: string;
  value: unknown;
}
export interface FindSpan {
  span_id: string;
  name: string;
  service_name: string;
  status: { code: string };
  attributes: FindAttribute[];
  resource: { attributes: FindAttribute[] };
}

export function isErrorSpan(s: { status?: { code: string } }): boolean {
  return (s.status?.code ?? "").toLowerCase().endsWith("error");
}

function text(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

type Term = (s: FindSpan) => boolean;

function term(raw: string): Term {
  const t = raw.toLowerCase();
  if (t === "error" || t === "is:error") return isErrorSpan;
  const eq = raw.indexOf("=");
  if (eq > 0) {
    const key = raw.slice(0, eq);
    const want = raw.slice(eq + 1);
    return (s) =>
      [...s.attributes, ...s.resource.attributes].some((a) => a.key === key && (want === "" || text(a.value) === want));
  }
  return (s) =>
    s.name.toLowerCase().includes(t) ||
    s.service_name.toLowerCase().includes(t) ||
    s.span_id.toLowerCase() === t ||
    s.attributes.some((a) => text(a.value).toLowerCase().includes(t));
}

// Span indices (into `spans`) that match `query`, in the order of `order` (display order).
export function findSpans(spans: FindSpan[], order: ArrayLike<number>, query: string): number[] {
  const terms = query.trim().split(/\s+/).filter(Boolean).map(term);
  if (!terms.length) return [];
  const out: number[] = [];
  for (let r = 0; r < order.length; r++) {
    const i = order[r];
    if (terms.every((m) => m(spans[i]))) out.push(i);
  }
  return out;
}

// The next (dir 1) or previous (dir -1) of `hits` (span indices in display order) from the
// span shown at display row `fromRow` (rowOf maps span index → display row); wraps around.
export function stepHit(hits: number[], rowOf: ArrayLike<number>, fromRow: number, dir: 1 | -1): number {
  if (!hits.length) return -1;
  if (dir === 1) {
    for (const i of hits) if (rowOf[i] > fromRow) return i;
    return hits[0];
  }
  for (let k = hits.length - 1; k >= 0; k--) if (rowOf[hits[k]] < fromRow) return hits[k];
  return hits[hits.length - 1];
}
