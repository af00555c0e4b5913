import { describe, expect, it } from "vitest";
import { distributions, rankBubbleUp, totalVariation } from "../src/lib/bubbleup";

describe("BubbleUp ranking", () => {
  const response = {
    columns: [
      { column: "http.method", values: [{ value: "GET", selection: 0.5, baseline: 0.5 }, { value: "POST", selection: 0.5, baseline: 0.5 }] },
      { column: "user.id", values: [
        { value: "u1", selection: 0.1, baseline: 0.1 },
        { value: "u7", selection: 0.8, baseline: 0.05 },
        { value: "u2", selection: 0.1, baseline: 0.85 },
      ] },
      { column: "region", values: [{ value: "eu", selection: 0.6, baseline: 0.4 }, { value: "us", selection: 0.4, baseline: 0.6 }] },
      { column: "trace.trace_id", values: [{ value: "abc", selection: 1, baseline: 0 }] },
    ],
  };

  it("ranks columns by total variation distance", () => {
    const ranked = rankBubbleUp(response);
    expect(ranked.map((c) => c.column)).toEqual(["user.id", "region", "http.method"]);
    expect(ranked[0].score).toBeCloseTo(0.75);
    expect(ranked[1].score).toBeCloseTo(0.2);
    expect(ranked[2].score).toBe(0);
  });

  it("orders values by their own difference and caps them", () => {
    const ranked = rankBubbleUp(response, { maxValues: 2 });
    expect(ranked[0].values.map((v) => v.value)).toEqual(["u7", "u2"]); // equal |diff|: the one over-represented in the selection first
    expect(ranked[0].values[0].diff).toBeCloseTo(0.75);
    expect(ranked[0].hiddenValues).toBe(1);
  });

  it("prefers the server's score and honours exclusions", () => {
    const ranked = rankBubbleUp(
      { columns: [{ column: "a", score: 0.9, values: [] }, { column: "b", score: 0.1, values: [] }, { column: "c", score: 0.5, values: [] }] },
      { excludeColumns: ["c"] },
    );
    expect(ranked.map((c) => [c.column, c.score])).toEqual([["a", 0.9], ["b", 0.1]]);
  });

  it("builds distributions from counts", () => {
    const d = distributions(new Map([["x", 3], ["y", 1]]), new Map([["y", 4]]));
    expect(d).toEqual([
      { value: "x", selection: 0.75, baseline: 0 },
      { value: "y", selection: 0.25, baseline: 1 },
    ]);
    expect(totalVariation(d)).toBeCloseTo(0.75);
  });
});
