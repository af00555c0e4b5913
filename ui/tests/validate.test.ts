import { describe, expect, it } from "vitest";
import { ColumnCatalog, checkCalc, checkFilter, clauseOfError, editDistance } from "../src/lib/validate";

const catalog = new ColumnCatalog([
  { name: "duration_ms", type: "double", source: "intrinsic" },
  { name: "error", type: "bool", source: "intrinsic" },
  { name: "service.name", type: "string", source: "intrinsic" },
  { name: "http.status_code", type: "int", source: "span" },
  { name: "user.tier", type: "string", source: "span" },
]);

describe("builder validation", () => {
  it("refuses unknown columns with a suggestion", () => {
    expect(checkCalc({ op: "P99", column: "nonexistent_col" }, catalog)).toMatch(/unknown column 'nonexistent_col'/);
    expect(checkCalc({ op: "P99", column: "duration_mss" }, catalog)).toMatch(/did you mean 'duration_ms'/);
    expect(checkFilter({ column: "user.teir", op: "=", value: "free" }, catalog)).toMatch(/did you mean 'user.tier'/);
  });
  it("refuses numeric calculations over text", () => {
    expect(checkCalc({ op: "AVG", column: "service.name" }, catalog)).toMatch(/AVG needs a numeric column/);
    expect(checkCalc({ op: "COUNT_DISTINCT", column: "service.name" }, catalog)).toBeNull();
    expect(checkCalc({ op: "P99", column: "duration_ms" }, catalog)).toBeNull();
  });
  it("refuses values that can never match the column's type", () => {
    expect(checkFilter({ column: "error", op: "=", value: "tru" }, catalog)).toMatch(/'tru' can never match error/);
    expect(checkFilter({ column: "error", op: "=", value: true }, catalog)).toBeNull();
    expect(checkFilter({ column: "http.status_code", op: ">=", value: "abc" }, catalog)).toMatch(/holds numbers/);
    expect(checkFilter({ column: "http.status_code", op: "in", value: [500, "x"] }, catalog)).toMatch(/'x'/);
    expect(checkFilter({ column: "http.status_code", op: "=", value: "500" }, catalog)).toBeNull();
    expect(checkFilter({ column: "user.tier", op: "=", value: 5 }, catalog)).toBeNull();
    expect(checkFilter({ column: "error", op: "exists" }, catalog)).toBeNull();
  });
  it("maps a server message to its clause", () => {
    expect(clauseOfError("filters[2].value: 'tru' can never match error")).toEqual({ clause: "WHERE", index: 2 });
    expect(clauseOfError("calculations[0].column: unknown column")).toEqual({ clause: "VISUALIZE", index: 0 });
    expect(clauseOfError("time_range: too long")).toBeNull();
  });
  it("edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "ab")).toBe(2);
  });
});
