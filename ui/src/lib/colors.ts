// Service colours. serviceColor(name) is stable across pages (a hash into a palette), so the
// same service looks the same everywhere; traceColors(services) is for one trace, where no two
// services may share a colour: each service starts from its stable colour and moves to the next
// free one on a collision; past the palette, hues spread by the golden angle with alternating
// lightness, which never repeat for any number of services.
export const PALETTE = [
  "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#2f6fd6", "#d37295",
  "#499894", "#b6992d", "#7b66d2", "#3a9e6f", "#c06c2b", "#5f7f9f", "#a05195", "#6b8e23",
];

function hash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function serviceColor(name: string): string {
  return PALETTE[hash(name) % PALETTE.length];
}

// The k-th colour after the palette: golden-angle hues, three lightness bands.
function extraColor(k: number): string {
  const hue = (k * 137.508 + 20) % 360;
  const light = [42, 55, 34][Math.floor(k / 7) % 3];
  return `hsl(${hue.toFixed(1)}, 58%, ${light}%)`;
}

// A colour per service of one trace, all different. Services are taken in name order so the
// assignment does not depend on the order spans arrived in.
export function traceColors(services: Iterable<string>): Map<string, string> {
  const names = [...new Set(services)].sort();
  const out = new Map<string, string>();
  const taken = new Set<number>();
  const overflow: string[] = [];
  for (const name of names) {
    if (taken.size >= PALETTE.length) {
      overflow.push(name);
      continue;
    }
    let slot = hash(name) % PALETTE.length;
    while (taken.has(slot)) slot = (slot + 1) % PALETTE.length;
    taken.add(slot);
    out.set(name, PALETTE[slot]);
  }
  overflow.forEach((name, k) => out.set(name, extraColor(k)));
  return out;
}
