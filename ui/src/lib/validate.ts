// Checks what the user types into the query builder against the column catalog
// (GET /api/v1/columns), with the same rules the server applies (src/query/column_check.cc): an
// unknown column, a numeric calculation over text, or a value that can never match the column's
// type is refused with a message, before it becomes a chip.
import type { Calculation, Column, Filter } from "../api";

const NUMERIC = new Set(["int", "double", "mixed"]);
const COMPARISONS = new Set(["=", "!=", ">", ">=", "<", "<=", "in", "not-in"]);
const ALIASES = ["type", "trace.trace_state"];

export class ColumnCatalog {
  private types = new Map<string, string>();
  constructor(columns: Column[]) {
    for (const c of columns) this.types.set(c.name, c.type);
    for (const a of ALIASES) if (!this.types.has(a)) this.types.set(a, "string");
  }
  get size(): number {
    return this.types.size;
  }
  typeOf(column: string): string | undefined {
    return this.types.get(column);
  }
  // The closest known name, for "did you mean".
  suggest(column: string): string | undefined {
    let best: string | undefined;
    let bestD = Math.max(3, Math.floor(column.length / 3)) + 1;
    for (const name of this.types.keys()) {
      const d = editDistance(column, name);
      if (d < bestD) {
        bestD = d;
        best = name;
      }
    }
    return best;
  }
  unknown(column: string): string | null {
    if (this.types.has(column)) return null;
    const s = this.suggest(column);
    return `unknown column '${column}'${s ? ` (did you mean '${s}'?)` : ""}; no span has sent it`;
  }
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] !== b[j - 1] ? 1 : 0));
      diag = above;
    }
  }
  return row[b.length];
}

function spellsNumber(s: string): boolean {
  return s.trim() !== "" && Number.isFinite(Number(s));
}

function comparable(type: string, v: unknown): boolean {
  if (type === "bool") return typeof v === "boolean" || v === "true" || v === "false";
  if (type === "int" || type === "double") {
    if (typeof v === "boolean") return false;
    return typeof v === "number" || (typeof v === "string" && spellsNumber(v));
  }
  return true;
}

export function checkCalc(c: Calculation, catalog: ColumnCatalog): string | null {
  if (!c.column || c.op === "COUNT" || c.op === "CONCURRENCY") return null;
  const unknown = catalog.unknown(c.column);
  if (unknown) return unknown;
  const type = catalog.typeOf(c.column)!;
  if (c.op !== "COUNT_DISTINCT" && !NUMERIC.has(type)) {
    return `${c.op} needs a numeric column; ${c.column} holds ${type} values (COUNT_DISTINCT works on any column)`;
  }
  return null;
}

export function checkFilter(f: Filter, catalog: ColumnCatalog): string | null {
  const unknown = catalog.unknown(f.column);
  if (unknown) return unknown;
  if (!COMPARISONS.has(f.op)) return null;
  const type = catalog.typeOf(f.column)!;
  const values = Array.isArray(f.value) ? f.value : [f.value];
  for (const v of values) {
    if (comparable(type, v)) continue;
    const holds = type === "bool" ? "booleans; use true or false" : "numbers; use a number";
    return `'${String(v)}' can never match ${f.column}, which holds ${holds}`;
  }
  return null;
}

export function checkColumn(name: string, catalog: ColumnCatalog): string | null {
  return catalog.unknown(name);
}

// Which clause of the builder a server message is about ("filters[1].value: …" → WHERE, 1).
export function clauseOfError(message: string): { clause: string; index: number } | null {
  const m = /^(calculations|filters|breakdowns|orders|havings)\[(\d+)\]/.exec(message);
  if (!m) return null;
  const clause = { calculations: "VISUALIZE", filters: "WHERE", breakdowns: "GROUP BY", orders: "ORDER BY", havings: "HAVING" }[m[1]]!;
  return { clause, index: Number(m[2]) };
}
