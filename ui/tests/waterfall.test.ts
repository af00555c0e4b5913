import { describe, expect, it } from "vitest";
import { criticalPath, layoutWaterfall, visibleRows, type WfSpanInput } from "../src/lib/waterfall";

const BASE = 1764064800000000000n;
function span(id: string, parent: string, startMs: number, endMs: number): WfSpanInput {
  return {
    span_id: id,
    parent_span_id: parent,
    start_time_unix_nano: String(BASE + BigInt(Math.round(startMs * 1e6))),
    end_time_unix_nano: String(BASE + BigInt(Math.round(endMs * 1e6))),
  };
}

describe("waterfall layout", () => {
  // root ─┬─ a ── a1
  //       └─ b
  const spans = [
    span("b", "root", 60, 90),
    span("a1", "a", 12, 40),
    span("root", "", 0, 100),
    span("a", "root", 10, 50),
  ];
  const ids = (rows: Int32Array) => Array.from(rows, (i) => spans[i].span_id);

  it("orders depth first with children by start time", () => {
    const l = layoutWaterfall(spans);
    expect(ids(l.order)).toEqual(["root", "a", "a1", "b"]);
    expect(Array.from(l.order, (i) => l.depth[i])).toEqual([0, 1, 2, 1]);
    expect(l.durationMs).toBeCloseTo(100);
    expect(l.start[1]).toBeCloseTo(12);
    expect(l.end[1]).toBeCloseTo(40);
    expect(l.maxDepth).toBe(2);
    expect(Array.from(l.subtreeEnd)).toEqual([4, 3, 3, 4]);
  });

  it("hides collapsed subtrees", () => {
    const l = layoutWaterfall(spans);
    expect(ids(visibleRows(l, new Set([3])))).toEqual(["root", "a", "b"]);
    expect(ids(visibleRows(l, new Set([2])))).toEqual(["root"]);
    expect(ids(visibleRows(l, new Set()))).toEqual(["root", "a", "a1", "b"]);
  });

  it("keeps orphans as roots and breaks cycles", () => {
    const l = layoutWaterfall([
      span("x", "missing", 5, 6),
      span("p", "q", 0, 1),
      span("q", "p", 0, 1),
      span("r", "", 0, 10),
    ]);
    expect(l.orphans).toBe(1);
    expect(l.count).toBe(4);
    expect(new Set(l.order).size).toBe(4);
  });

  it("marks the critical path", () => {
    // root 0-100: a 10-50 (a1 12-40), b 60-90; c 20-30 overlaps a and ends before it.
    const s = [...spans, span("c", "root", 20, 30)];
    const l = layoutWaterfall(s);
    const path = new Set(Array.from(criticalPath(l), (i) => s[i].span_id));
    expect(path).toEqual(new Set(["root", "b", "a", "a1"]));
  });

  it("handles a 50,000-span chain without recursion", () => {
    const chain: WfSpanInput[] = [];
    for (let i = 0; i < 50000; i++) chain.push(span(`s${i}`, i ? `s${i - 1}` : "", i * 0.001, 100 - i * 0.001));
    const l = layoutWaterfall(chain);
    expect(l.maxDepth).toBe(49999);
    expect(criticalPath(l).size).toBe(50000);
    expect(visibleRows(l, new Set([0])).length).toBe(1);
  });
});
