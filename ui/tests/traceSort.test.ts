import { describe, expect, it } from "vitest";
import type { TraceSummary } from "../src/api";
import { nextSort, parseSort, sortTraces } from "../src/lib/traceSort";

const t = (id: string, start: string, duration: number, spans: number, errors: number): TraceSummary => ({
  trace_id: id,
  root_service: "s",
  root_name: "n",
  start_time_unix_nano: start,
  duration_ms: duration,
  span_count: spans,
  services: ["s"],
  error_count: errors,
});
// Starts differ only beyond 2^53 nanoseconds' precision.
const list = [
  t("a", "1764700000000000001", 5, 3, 0),
  t("b", "1764700000000000003", 50, 1, 2),
  t("c", "1764700000000000002", 9, 7, 1),
];
const ids = (x: TraceSummary[]) => x.map((y) => y.trace_id).join("");

describe("sortTraces", () => {
  it("sorts newest first by default, exactly on nanosecond strings", () => {
    expect(ids(sortTraces(list, parseSort(new URLSearchParams())))).toBe("bca");
    expect(ids(sortTraces(list, { key: "start", dir: "asc" }))).toBe("acb");
  });
  it("sorts by duration, spans and errors", () => {
    expect(ids(sortTraces(list, { key: "duration", dir: "desc" }))).toBe("bca");
    expect(ids(sortTraces(list, { key: "spans", dir: "desc" }))).toBe("cab");
    expect(ids(sortTraces(list, { key: "errors", dir: "asc" }))).toBe("acb");
  });
  it("flips the direction on the same column, starts descending on a new one", () => {
    expect(nextSort({ key: "start", dir: "desc" }, "start")).toEqual({ key: "start", dir: "asc" });
    expect(nextSort({ key: "start", dir: "asc" }, "duration")).toEqual({ key: "duration", dir: "desc" });
    expect(parseSort(new URLSearchParams("sort=spans&dir=asc"))).toEqual({ key: "spans", dir: "asc" });
    expect(parseSort(new URLSearchParams("sort=bogus"))).toEqual({ key: "start", dir: "desc" });
  });
});
