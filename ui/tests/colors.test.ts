import { describe, expect, it } from "vitest";
import { PALETTE, serviceColor, traceColors } from "../src/lib/colors";

describe("traceColors", () => {
  it("never gives two services of one trace the same colour", () => {
    for (const n of [2, 5, 16, 17, 40, 120]) {
      const names = Array.from({ length: n }, (_, i) => `svc-${i}`);
      const colors = traceColors(names);
      expect(colors.size).toBe(n);
      expect(new Set(colors.values()).size).toBe(n);
    }
  });
  it("keeps a service's stable colour when it is free and does not depend on order", () => {
    // Two names whose stable colours collide somewhere among these.
    const names = Array.from({ length: 30 }, (_, i) => `service-${i}`);
    const a = traceColors(names);
    const b = traceColors([...names].reverse());
    expect([...a]).toEqual([...b]);
    const first = [...names].sort()[0];
    expect(a.get(first)).toBe(serviceColor(first));
    expect(PALETTE).toContain(a.get(first));
  });
});
