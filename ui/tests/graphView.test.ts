import { describe, expect, it } from "vitest";
import type { GraphEdge, GraphNode } from "../src/api";
import { neighbourhood, showEdgeLabels, visibleGraph } from "../src/lib/graphView";

const node = (name: string, request_count = 10, error_count = 0): GraphNode => ({ name, kind: "service", request_count, error_count });
const edge = (source: string, target: string, request_count = 10, error_count = 0): GraphEdge => ({ source, target, request_count, error_count, p50_ms: 1, p95_ms: 2, p99_ms: 3 });
// a → b → c → d, a → e (1 call), e → f (errors)
const nodes = ["a", "b", "c", "d", "e", "f"].map((n) => node(n));
nodes[5] = node("f", 10, 5);
const edges = [edge("a", "b"), edge("b", "c"), edge("c", "d"), edge("a", "e", 1), edge("e", "f", 10, 5)];
const names = (g: { nodes: GraphNode[] }) => g.nodes.map((n) => n.name).sort();

describe("service map view", () => {
  it("shows everything without filters", () => {
    expect(names(visibleGraph(nodes, edges, {}))).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
  it("focuses on a service and its neighbours, both directions", () => {
    const one = visibleGraph(nodes, edges, { focus: "b", depth: 1 });
    expect(names(one)).toEqual(["a", "b", "c"]);
    expect(one.edges.map((e) => `${e.source}>${e.target}`)).toEqual(["a>b", "b>c"]);
    // A call between two neighbours is not on the way out from the focus at depth 1.
    const tri = visibleGraph(nodes, [...edges, edge("a", "c")], { focus: "b", depth: 1 });
    expect(tri.edges.length).toBe(2);
    const two = visibleGraph(nodes, edges, { focus: "b", depth: 2 });
    expect(names(two)).toEqual(["a", "b", "c", "d", "e"]);
    expect(two.edges.length).toBe(4);
    expect([...neighbourhood(edges, "f", 2)].sort()).toEqual(["a", "e"]);
  });
  it("hides quiet calls and keeps the failing ones", () => {
    const busy = visibleGraph(nodes, edges, { minCalls: 5 });
    expect(busy.edges.some((e) => e.target === "e" && e.source === "a")).toBe(false);
    expect(names(busy)).toEqual(["a", "b", "c", "d", "e", "f"]);
    const failing = visibleGraph(nodes, edges, { minErrorRate: 0.05 });
    expect(names(failing)).toEqual(["e", "f"]);
    expect(failing.edges.length).toBe(1);
  });
  it("labels edges only when they are legible", () => {
    expect(showEdgeLabels(500, false)).toBe(false);
    expect(showEdgeLabels(500, true)).toBe(true);
    expect(showEdgeLabels(20, false)).toBe(true);
  });
});
