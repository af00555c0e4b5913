import { describe, expect, it } from "vitest";
import {
  defaultState,
  parseFilter,
  paramsToState,
  stateToParams,
  stateToSpec,
  type QueryState,
} from "../src/lib/queryUrl";

function roundTrip(s: QueryState): QueryState {
  const url = "/query?" + stateToParams(s).toString();
  return paramsToState(new URL(url, "http://x").searchParams);
}

describe("query URL", () => {
  it("round-trips a full query", () => {
    const s: QueryState = {
      calcs: [{ op: "COUNT" }, { op: "P99", column: "duration_ms" }, { op: "HEATMAP", column: "duration_ms" }],
      filters: [
        { column: "service.name", op: "=", value: "cart" },
        { column: "http.status_code", op: ">=", value: 500 },
        { column: "error", op: "=", value: true },
        { column: "user.id", op: "=", value: "42" },
        { column: "http.route", op: "in", value: ["/a", "/b c", "7"] },
        { column: "db.system", op: "exists" },
        { column: "note", op: "contains", value: " spaced, and comma" },
      ],
      combine: "OR",
      breakdowns: ["service.name", "http.route"],
      orders: [{ op: "P99", column: "duration_ms", order: "descending" }, { column: "http.route", order: "ascending" }],
      havings: [{ calculate_op: "COUNT", op: ">", value: 10 }, { calculate_op: "P99", column: "duration_ms", op: "<=", value: 2.5 }],
      limit: 50,
      range: 3600,
      granularity: 30,
      dataset: "frontend",
    };
    expect(roundTrip(s)).toEqual(s);
  });

  it("keeps absolute time ranges and the default", () => {
    const abs = { ...defaultState(), start: 1700000000, end: 1700003600 };
    expect(roundTrip(abs)).toEqual(abs);
    expect(stateToParams(defaultState()).toString()).toBe("calc=COUNT");
    expect(roundTrip(defaultState())).toEqual(defaultState());
  });

  it("ignores malformed parameters", () => {
    const s = paramsToState(new URLSearchParams("calc=&where=nonsense&having=COUNT%20~%203&limit=-4&range=abc"));
    expect(s.calcs).toEqual([{ op: "COUNT" }]);
    expect(s.filters).toEqual([]);
    expect(s.havings).toEqual([]);
    expect(s.limit).toBeUndefined();
    expect(s.range).toBe(7200);
  });

  it("types filter literals", () => {
    expect(parseFilter("a = 5")).toEqual({ column: "a", op: "=", value: 5 });
    expect(parseFilter('a = "5"')).toEqual({ column: "a", op: "=", value: "5" });
    expect(parseFilter("a != false")).toEqual({ column: "a", op: "!=", value: false });
    expect(parseFilter("a starts-with GET /")).toEqual({ column: "a", op: "starts-with", value: "GET /" });
  });

  it("builds the API spec", () => {
    const s = paramsToState(new URLSearchParams("calc=P50(duration_ms)&group=service.name&range=600"));
    const spec = stateToSpec(s, 1_000_000);
    expect(spec).toEqual({
      calculations: [{ op: "P50", column: "duration_ms" }],
      breakdowns: ["service.name"],
      start_time: 1_000_000 - 600,
      end_time: 1_000_000,
      granularity: 5,
    });
  });
});

import { zoomState as zoomStateForTest, stateToParams as toParams, paramsToState as fromParams } from "../src/lib/queryUrl";
describe("zoomState", () => {
  it("turns a dragged range into an absolute window in the URL", () => {
    const s = fromParams(new URLSearchParams("calc=COUNT&range=3600"));
    const z = zoomStateForTest(s, 1764700100.4, 1764700400.2);
    expect([z.start, z.end, z.range]).toEqual([1764700100, 1764700401, 301]);
    const p = toParams(z);
    expect(p.get("start")).toBe("1764700100");
    expect(p.get("end")).toBe("1764700401");
    expect(fromParams(p).start).toBe(1764700100);
  });
});
