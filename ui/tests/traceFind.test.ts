import { describe, expect, it } from "vitest";
import { findSpans, stepHit, type FindSpan } from "../src/lib/traceFind";

const span = (id: string, name: string, service: string, error = false, attrs: Record<string, unknown> = {}): FindSpan => ({
  span_id: id,
  name,
  service_name: service,
  status: { code: error ? "error" : "unset" },
  attributes: Object.entries(attrs).map(([key, value]) => ({ key, value })),
  resource: { attributes: [] },
});
const spans = [
  span("a1", "GET /cart", "frontend"),
  span("b2", "SELECT items", "cart", false, { "db.system": "postgresql" }),
  span("c3", "charge card", "checkout", true, { "http.status_code": 500 }),
  span("d4", "GET /user", "users", true),
];
const order = [0, 1, 2, 3];

describe("findSpans", () => {
  it("matches names and services case-insensitively", () => {
    expect(findSpans(spans, order, "get")).toEqual([0, 3]);
    expect(findSpans(spans, order, "CART")).toEqual([0, 1]);
  });
  it("matches attributes with KEY=VALUE and errors with `error`", () => {
    expect(findSpans(spans, order, "http.status_code=500")).toEqual([2]);
    expect(findSpans(spans, order, "db.system=")).toEqual([1]);
    expect(findSpans(spans, order, "error")).toEqual([2, 3]);
    expect(findSpans(spans, order, "error get")).toEqual([3]);
  });
  it("lists hits in display order", () => {
    expect(findSpans(spans, [3, 2, 1, 0], "error")).toEqual([3, 2]);
  });
});

describe("stepHit", () => {
  const rowOf = [0, 1, 2, 3];
  it("moves forward and back from a row and wraps", () => {
    expect(stepHit([1, 3], rowOf, -1, 1)).toBe(1);
    expect(stepHit([1, 3], rowOf, 1, 1)).toBe(3);
    expect(stepHit([1, 3], rowOf, 3, 1)).toBe(1);
    expect(stepHit([1, 3], rowOf, 3, -1)).toBe(1);
    expect(stepHit([1, 3], rowOf, 1, -1)).toBe(3);
    expect(stepHit([], rowOf, 0, 1)).toBe(-1);
  });
});
