import { describe, expect, it } from "vitest";
import { defaultState } from "../src/lib/queryUrl";
import { groupFilters, traceQuery, traceSearchParams, tracesPageHref, traceViewHref } from "../src/lib/traceLinks";

const base = () => {
  const s = defaultState();
  s.filters = [{ column: "service.name", op: "=", value: "frontend" }];
  s.breakdowns = ["http.route", "http.status_code"];
  s.start = 1000;
  s.end = 4600;
  return s;
};

describe("trace links", () => {
  it("a heatmap selection adds the value band and narrows the window", () => {
    const q = traceQuery(base(), { kind: "heatmap", column: "duration_ms", min: 712.34567, max: 1300, startTime: 1500.4, endTime: 9999 });
    expect(q.filters).toEqual([
      { column: "service.name", op: "=", value: "frontend" },
      { column: "duration_ms", op: ">=", value: 712.346 },
      { column: "duration_ms", op: "<=", value: 1300 },
    ]);
    expect([q.start, q.end]).toEqual([1500, 4600]);
  });
  it("a chart point is its group in its time bucket", () => {
    const q = traceQuery(base(), { kind: "point", time: 1200, step: 60, group: { "http.route": "/cart", "http.status_code": 500 }, label: "" });
    expect(q.filters.slice(1)).toEqual([
      { column: "http.route", op: "=", value: "/cart" },
      { column: "http.status_code", op: "=", value: 500 },
    ]);
    expect([q.start, q.end]).toEqual([1200, 1260]);
  });
  it("a row without a value means the column does not exist", () => {
    expect(groupFilters({ "http.route": null })).toEqual([{ column: "http.route", op: "does-not-exist" }]);
    const q = traceQuery(base(), { kind: "row", group: { "http.route": null }, label: "" });
    expect([q.start, q.end]).toEqual([1000, 4600]);
  });
  it("the dataset becomes a service filter; no selection keeps the query's window", () => {
    const s = base();
    s.dataset = "cart";
    const q = traceQuery(s, null);
    expect(q.filters).toContainEqual({ column: "service.name", op: "=", value: "cart" });
  });
  it("builds the API parameters and the Traces page link", () => {
    const q = { filters: [{ column: "http.status_code", op: ">=", value: 500 }, { column: "user.tier", op: "=", value: "42" }], start: 10, end: 20 };
    const p = traceSearchParams(q, 25);
    expect(JSON.parse(p.get("filters")!)).toEqual(q.filters);
    expect(p.get("limit")).toBe("25");
    const href = new URL(tracesPageHref(q), "http://x");
    expect(href.pathname).toBe("/traces");
    expect(href.searchParams.getAll("where")).toEqual(["http.status_code >= 500", 'user.tier = "42"']);
    expect(href.searchParams.get("start")).toBe("10");
  });
});

describe("trace view links", () => {
  it("carry the trace's start as the read hint", () => {
    expect(traceViewHref({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", start_time_unix_nano: "1764000000123456789" })).toBe(
      "/traces/4bf92f3577b34da6a3ce929d0e0e4736?near=1764000000123456789",
    );
  });
  it("leave the hint out when the start is unknown", () => {
    expect(traceViewHref({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" })).toBe("/traces/4bf92f3577b34da6a3ce929d0e0e4736");
    expect(traceViewHref({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", start_time_unix_nano: "0" })).toBe("/traces/4bf92f3577b34da6a3ce929d0e0e4736");
  });
});
