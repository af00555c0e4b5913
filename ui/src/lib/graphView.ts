// Which part of the service graph the map shows: filters (minimum calls, minimum error rate) and
// a focus on one service with its neighbours up to a depth, in either direction. Pure functions,
// so the map's choices are unit-tested without a browser.
import type { GraphEdge, GraphNode } from "../api";

export interface GraphFilter {
  minCalls?: number; // edges with fewer calls are hidden
  minErrorRate?: number; // 0..1: only edges and services failing at least this often (plus their ends)
  focus?: string; // a service name
  depth?: number; // 1 or 2 (default 1)
}

export interface GraphSubset {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const errorRate = (x: { request_count: number; error_count: number }) =>
  x.request_count > 0 ? x.error_count / x.request_count : 0;

export function visibleGraph(nodes: GraphNode[], edges: GraphEdge[], f: GraphFilter): GraphSubset {
  const minCalls = f.minCalls ?? 0;
  const minErr = f.minErrorRate ?? 0;
  let keptEdges = edges.filter((e) => e.request_count >= minCalls && errorRate(e) >= minErr);
  const keep = new Set<string>();
  for (const e of keptEdges) keep.add(e.source).add(e.target);
  for (const n of nodes) {
    const quiet = minCalls > 0 && n.request_count < minCalls;
    if (!quiet && minErr > 0 && errorRate(n) >= minErr) keep.add(n.name);
    if (minCalls === 0 && minErr === 0) keep.add(n.name);
  }
  if (f.focus) {
    const depth = Math.max(1, Math.min(2, f.depth ?? 1));
    const near = neighbourhood(keptEdges, f.focus, depth);
    near.add(f.focus);
    for (const name of [...keep]) if (!near.has(name)) keep.delete(name);
    if (nodes.some((n) => n.name === f.focus)) keep.add(f.focus);
    // The calls along the way out from the focus: each has an end nearer than `depth` (so at
    // depth 1 only the focused service's own calls, not those among its neighbours).
    const inner = depth === 1 ? new Set([f.focus]) : new Set([f.focus, ...neighbourhood(keptEdges, f.focus, depth - 1)]);
    keptEdges = keptEdges.filter(
      (e) => keep.has(e.source) && keep.has(e.target) && (inner.has(e.source) || inner.has(e.target)),
    );
  }
  return { nodes: nodes.filter((n) => keep.has(n.name)), edges: keptEdges };
}

// Services within `depth` calls of `start`, following edges both ways.
export function neighbourhood(edges: GraphEdge[], start: string, depth: number): Set<string> {
  const adj = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    if (!adj.has(a)) adj.set(a, []);
    adj.get(a)!.push(b);
  };
  for (const e of edges) {
    link(e.source, e.target);
    link(e.target, e.source);
  }
  const seen = new Set<string>([start]);
  let frontier = [start];
  for (let d = 0; d < depth; d++) {
    const next: string[] = [];
    for (const n of frontier)
      for (const m of adj.get(n) ?? [])
        if (!seen.has(m)) {
          seen.add(m);
          next.push(m);
        }
    frontier = next;
  }
  seen.delete(start);
  return seen;
}

// Edge labels are drawn only when they can be read: a focused view or a small graph.
export function showEdgeLabels(visibleEdges: number, focused: boolean): boolean {
  return focused || visibleEdges <= 60;
}
