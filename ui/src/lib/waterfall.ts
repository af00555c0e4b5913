// Waterfall layout: the span tree in display order (depth-first, children by start time), the
// visible rows for a set of collapsed spans, and the critical path. Iterative throughout, so a
// 50,000-span chain does not overflow the stack; O(n log n) overall.

export interface WfSpanInput {
  span_id: string;
  parent_span_id: string;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
}

export interface WfLayout {
  count: number;
  order: Int32Array; // display order: order[row] = span index (input index)
  depth: Int32Array; // by span index
  parent: Int32Array; // by span index, -1 for roots and orphans
  childCount: Int32Array; // by span index
  subtreeEnd: Int32Array; // by display row: first row after this span's subtree
  rowOf: Int32Array; // by span index: its display row
  start: Float64Array; // by span index: ms since the trace start
  end: Float64Array; // by span index: ms since the trace start
  durationMs: number; // whole trace
  maxDepth: number;
  orphans: number; // spans whose parent is not in the trace
}

// Nanosecond timestamps exceed 2^53, so each is split into whole seconds and nanoseconds (both
// exact as doubles) before taking the offset from the earliest start; no BigInt in the loop.
function splitNs(text: string): [number, number] {
  const t = text || "0";
  if (t.length <= 9) return [0, Number(t)];
  return [Number(t.slice(0, t.length - 9)), Number(t.slice(t.length - 9))];
}

function offsetsMs(spans: WfSpanInput[]): { start: Float64Array; end: Float64Array; total: number } {
  const n = spans.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  if (n === 0) return { start, end, total: 0 };
  const sSec = new Float64Array(n);
  const sNs = new Float64Array(n);
  let baseSec = Infinity;
  let baseNs = 0;
  for (let i = 0; i < n; i++) {
    const [sec, ns] = splitNs(spans[i].start_time_unix_nano);
    sSec[i] = sec;
    sNs[i] = ns;
    if (sec < baseSec || (sec === baseSec && ns < baseNs)) {
      baseSec = sec;
      baseNs = ns;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [eSec, eNs] = splitNs(spans[i].end_time_unix_nano);
    const s = (sSec[i] - baseSec) * 1e3 + (sNs[i] - baseNs) / 1e6;
    let e = (eSec - baseSec) * 1e3 + (eNs - baseNs) / 1e6;
    if (e < s) e = s;
    start[i] = s;
    end[i] = e;
    if (e > total) total = e;
  }
  return { start, end, total };
}

export function layoutWaterfall(spans: WfSpanInput[]): WfLayout {
  const n = spans.length;
  const { start, end, total } = offsetsMs(spans);
  const indexById = new Map<string, number>();
  for (let i = 0; i < n; i++) if (!indexById.has(spans[i].span_id)) indexById.set(spans[i].span_id, i);

  const parent = new Int32Array(n).fill(-1);
  const childCount = new Int32Array(n);
  let orphans = 0;
  for (let i = 0; i < n; i++) {
    const pid = spans[i].parent_span_id;
    if (!pid) continue;
    const p = indexById.get(pid);
    if (p === undefined || p === i) {
      orphans++;
      continue;
    }
    parent[i] = p;
    childCount[p]++;
  }
  // Break cycles (bad data): a span whose ancestor chain returns to itself becomes a root.
  const state = new Uint8Array(n); // 0 unknown, 1 on current walk, 2 done
  for (let i = 0; i < n; i++) {
    if (state[i]) continue;
    const walk: number[] = [];
    let cur = i;
    while (cur !== -1 && state[cur] === 0) {
      state[cur] = 1;
      walk.push(cur);
      cur = parent[cur];
    }
    if (cur !== -1 && state[cur] === 1) {
      childCount[parent[cur]]--;
      parent[cur] = -1;
    }
    for (const w of walk) state[w] = 2;
  }

  // Children lists in CSR form, sorted by start time (then input order).
  const firstChild = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) firstChild[i + 1] = firstChild[i] + childCount[i];
  const fill = firstChild.slice(0, n);
  const children = new Int32Array(Math.max(0, firstChild[n]));
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    if (parent[i] === -1) roots.push(i);
    else children[fill[parent[i]]++] = i;
  }
  const byStart = (a: number, b: number) => start[a] - start[b] || a - b;
  for (let i = 0; i < n; i++) {
    const from = firstChild[i];
    const to = firstChild[i + 1];
    if (to - from > 1) {
      const sorted = Array.from(children.subarray(from, to)).sort(byStart);
      children.set(sorted, from);
    }
  }
  roots.sort(byStart);

  const order = new Int32Array(n);
  const depth = new Int32Array(n);
  const rowOf = new Int32Array(n);
  const subtreeEnd = new Int32Array(n);
  let row = 0;
  let maxDepth = 0;
  // Explicit stack of span indices; a negative entry -(i+1) closes span i's subtree.
  const stack: number[] = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push(roots[r]);
  while (stack.length) {
    const top = stack.pop()!;
    if (top < 0) {
      const i = -top - 1;
      subtreeEnd[rowOf[i]] = row;
      continue;
    }
    const i = top;
    rowOf[i] = row;
    order[row++] = i;
    if (depth[i] > maxDepth) maxDepth = depth[i];
    stack.push(-(i + 1));
    for (let c = firstChild[i + 1] - 1; c >= firstChild[i]; c--) {
      const child = children[c];
      depth[child] = depth[i] + 1;
      stack.push(child);
    }
  }
  return {
    count: n,
    order,
    depth,
    parent,
    childCount,
    subtreeEnd,
    rowOf,
    start,
    end,
    durationMs: total,
    maxDepth,
    orphans,
  };
}

// Display rows (span indices) with the subtrees of `collapsed` spans hidden.
export function visibleRows(layout: WfLayout, collapsed: Set<number>): Int32Array {
  if (collapsed.size === 0) return layout.order;
  const out = new Int32Array(layout.count);
  let k = 0;
  let row = 0;
  while (row < layout.count) {
    const span = layout.order[row];
    out[k++] = span;
    row = collapsed.has(span) ? layout.subtreeEnd[row] : row + 1;
  }
  return out.subarray(0, k);
}

// The critical path: starting at each root's end, repeatedly the child that finished last before
// the current point, then continue from that child's start (time spent in the parent itself in
// between counts for the parent). Returns the span indices on the path.
export function criticalPath(layout: WfLayout): Set<number> {
  const onPath = new Set<number>();
  const { start, end, count, order, depth } = layout;
  // Children of each span from the display order (a span's children follow it at depth+1).
  const kids = new Map<number, number[]>();
  for (let row = 0; row < count; row++) {
    const i = order[row];
    const p = layout.parent[i];
    if (p >= 0) {
      let list = kids.get(p);
      if (!list) kids.set(p, (list = []));
      list.push(i);
    }
  }
  for (const list of kids.values()) list.sort((a, b) => end[b] - end[a]);
  const work: [number, number][] = [];
  for (let row = 0; row < count; row++) {
    const i = order[row];
    if (depth[i] === 0) work.push([i, end[i]]);
  }
  // Only the longest root gets a path: it is the one the trace's duration is made of.
  if (work.length > 1) {
    work.sort((a, b) => end[b[0]] - start[b[0]] - (end[a[0]] - start[a[0]]));
    work.length = 1;
  }
  while (work.length) {
    const [span, until] = work.pop()!;
    onPath.add(span);
    let t = Math.min(end[span], until);
    const list = kids.get(span);
    if (!list) continue;
    for (const child of list) {
      if (t <= start[span]) break;
      if (start[child] >= t) continue; // starts after the point we are explaining
      // The child that finished last (clamped to t) explains the time up to t.
      work.push([child, t]);
      t = start[child];
    }
  }
  return onPath;
}
