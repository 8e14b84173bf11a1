// Compiles a parsed filter to a Drizzle SQL condition over the fields a list
// method allows. User text only ever reaches SQL as a bound parameter:
// field names pick a column from the caller's table, operators come from a
// fixed list, values and map keys are parameters.
import { and, eq, gt, gte, lt, lte, or, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { printable } from "../validation.js";
import { filterError, type Comparator, type Comparison, type FilterExpr, type FilterValue } from "./parse.js";

/** How one filterable field is stored. */
export type FilterField =
  /** A text column. `<`/`>` compare in the column's collation. */
  | { kind: "string"; column: SQLWrapper }
  /** Any numeric column; compared as double precision. */
  | { kind: "number"; column: SQLWrapper }
  /** A timestamptz column; values are RFC 3339. */
  | { kind: "timestamp"; column: SQLWrapper }
  /** A boolean column; values `true` and `false`; only `=`, `!=`, `:`. */
  | { kind: "bool"; column: SQLWrapper }
  /** A text column holding one of `values` (the canonical spelling); input matches any case; only `=`, `!=`, `:`. */
  | { kind: "enum"; column: SQLWrapper; values: readonly string[] }
  /** A numeric column holding enum numbers, named by `codes` (name -> number); input matches any case; only `=`, `!=`, `:`. */
  | { kind: "enumCode"; column: SQLWrapper; codes: Readonly<Record<string, number>> }
  /**
   * A jsonb object column, filtered by key: `labels.team = "risk"`,
   * `labels:team`. String equality is written as containment (`@>`), which a
   * GIN index answers, unless `containment` is false: within a small set of
   * rows (one model's versions) reading them beats scanning the index.
   */
  | { kind: "map"; column: SQLWrapper; valueKind: "string" | "number"; containment?: boolean };

/**
 * The filterable fields of one list method, by the name used in filters
 * (the proto field name). A map field's name is its prefix: `labels` allows
 * `labels.<key>`.
 */
export type FilterFields = Readonly<Record<string, FilterField>>;

/** The SQL condition for a parsed filter; `{ kind: "all" }` gives `true`. */
export function compileFilter(expr: FilterExpr, fields: FilterFields): SQL {
  switch (expr.kind) {
    case "all":
      return sql`true`;
    case "and":
      return and(...expr.args.map((a) => compileFilter(a, fields)))!;
    case "or":
      return or(...expr.args.map((a) => compileFilter(a, fields)))!;
    case "not":
      // Not drizzle's not(): NOT of an unknown (NULL: absent key, NULL
      // column) stays unknown and would drop the row. IS NOT TRUE makes NOT
      // the exact complement, so `NOT labels.team = "a"` keeps rows without
      // a team.
      return sql`((${compileFilter(expr.arg, fields)}) IS NOT TRUE)`;
    case "compare":
      return compileComparison(expr, fields);
  }
}

type Op = Exclude<Comparator, ":">;

function compileComparison(c: Comparison, fields: FilterFields): SQL {
  const { spec, key } = resolveField(c, fields);
  // `field:*` asks whether the field (or map key) is present at all.
  const any = c.op === ":" && !c.value.quoted && c.value.text === "*";
  // AIP-160: `m.foo:42` is true if m.foo is 42, so a value after `:` on a
  // single-valued field means equality (not "contains").
  const op: Op = c.op === ":" ? "=" : c.op;

  if (spec.kind === "map") {
    if (key === undefined) {
      // `labels:team` tests for the key "team".
      if (c.op !== ":" || any)
        throw filterError(c.opPos, `${c.field} is a map: compare one key, as in ${c.field}.key = "value", or test for a key with ${c.field}:key`);
      return hasKey(spec.column, c.value.text);
    }
    if (any) return hasKey(spec.column, key);
    if (spec.valueKind === "number") return compare(numberEntry(spec.column, key), op, numberValue(c));
    // Equality as containment, which a GIN (jsonb_path_ops) index answers;
    // the same rows as `->> key = value`. The one-entry object is a jsonb
    // parameter (still a bound value), not jsonb_build_object(): that is
    // STABLE, so PostgreSQL would build it again for every row it tests.
    if (op === "=" && spec.containment !== false) return sql`(${spec.column} @> ${JSON.stringify({ [key]: stringText(c, op) })}::jsonb)`;
    return compare(sql`(${spec.column} ->> ${key}::text)`, op, stringValue(c, op));
  }

  if (any) return spec.kind === "string" ? sql`(${spec.column} IS NOT NULL AND ${spec.column} <> '')` : sql`(${spec.column} IS NOT NULL)`;
  switch (spec.kind) {
    case "string":
      return compare(spec.column, op, stringValue(c, op));
    case "number":
      return compare(spec.column, op, numberValue(c));
    case "timestamp":
      return compare(spec.column, op, timestampValue(c));
    case "bool":
      equalityOnly(c, op, "a boolean");
      return compare(spec.column, op, boolValue(c));
    case "enum":
      equalityOnly(c, op, "an enum");
      return compare(spec.column, op, enumValue(c, spec.values));
    case "enumCode": {
      equalityOnly(c, op, "an enum");
      const name = enumValue(c, Object.keys(spec.codes), true);
      return compare(spec.column, op, sql`${spec.codes[name]!}::int`);
    }
  }
}

/** Finds the field: an exact name, else a map field whose name prefixes the path. */
function resolveField(c: Comparison, fields: FilterFields): { spec: FilterField; key?: string } {
  // Object.hasOwn: "constructor" or "__proto__" must not find Object's members.
  if (Object.hasOwn(fields, c.field)) return { spec: fields[c.field]! };
  let best: { spec: FilterField; key: string; length: number } | undefined;
  for (const [name, spec] of Object.entries(fields)) {
    // Everything after `labels.` is the key, dots included (`labels.app.kubernetes.io/name`).
    if (spec.kind === "map" && c.field.startsWith(`${name}.`) && name.length > (best?.length ?? -1))
      best = { spec, key: c.field.slice(name.length + 1), length: name.length };
  }
  if (best) return { spec: best.spec, key: best.key };
  const allowed = Object.entries(fields)
    .map(([name, spec]) => (spec.kind === "map" ? `${name}.<key>` : name))
    .sort();
  throw filterError(c.pos, `unknown field ${quote(c.field)}; the fields you can filter on are ${allowed.join(", ")}`);
}

function compare(lhs: SQLWrapper, op: Op, rhs: SQL): SQL {
  switch (op) {
    case "=":
      return sql`(${eq(lhs, rhs)})`;
    case "!=":
      // `a != v` is exactly `NOT a = v`: true where a is absent or NULL.
      return sql`(${lhs} IS DISTINCT FROM ${rhs})`;
    case "<":
      return sql`(${lt(lhs, rhs)})`;
    case "<=":
      return sql`(${lte(lhs, rhs)})`;
    case ">":
      return sql`(${gt(lhs, rhs)})`;
    case ">=":
      return sql`(${gte(lhs, rhs)})`;
  }
}

// `?` is jsonb's key-exists operator. Drizzle, postgres.js and PGlite all use
// $n placeholders, so a literal `?` is safe here (both drivers are tested), and
// unlike jsonb_exists() or `-> IS NOT NULL` it can use a GIN index later.
function hasKey(column: SQLWrapper, key: string): SQL {
  return sql`(${column} ? ${key}::text)`;
}

// A stored value that is not a JSON number (`"n/a"`) reads as NULL, so it
// matches no comparison instead of failing the whole query on the cast.
function numberEntry(column: SQLWrapper, key: string): SQL {
  return sql`(CASE WHEN jsonb_typeof(${column} -> ${key}::text) = 'number' THEN (${column} ->> ${key}::text)::double precision END)`;
}

// Values. Each returns a bound parameter wrapped in sql``, which keeps it
// away from the column's drizzle encoder (a timestamp column's would call
// .toISOString() on it). Numbers, timestamps and booleans carry an explicit
// cast; strings and enums take the column's type, so text, varchar, citext
// and native enum columns all work.

function stringValue(c: Comparison, op: Op): SQL {
  return sql`${stringText(c, op)}`;
}

/** The string a comparison's value stands for (wildcards refused). */
function stringText(c: Comparison, op: Op): string {
  const text = c.value.text;
  // AIP-160 defines leading/trailing `*` in equality as a wildcard. It is not
  // supported yet; refusing it now (rather than matching a literal star)
  // keeps adding it later from changing what an accepted filter means.
  if ((op === "=" || op === "!=") && (text.startsWith("*") || text.endsWith("*")))
    throw filterError(c.value.pos, `"*" wildcards are not supported yet: a value compared with ${c.field} must not start or end with "*"`);
  return text;
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function numberValue(c: Comparison): SQL {
  const n = NUMBER.test(c.value.text) ? Number(c.value.text) : Number.NaN;
  if (!Number.isFinite(n)) throw typeError(c.value, c.field, "a number, such as 42, -1.5 or 2.5e-3");
  // The JS number, not the text: "1e-400" becomes 0 here instead of a
  // PostgreSQL out-of-range error.
  return sql`${n}::double precision`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

function timestampValue(c: Comparison): SQL {
  if (!isRfc3339(c.value.text)) throw typeError(c.value, c.field, 'an RFC 3339 timestamp, such as "2024-01-31T12:00:00Z" or "2024-01-31T13:00:00+01:00"');
  // The text itself: PostgreSQL keeps microseconds a JS Date would lose.
  return sql`${c.value.text}::timestamptz`;
}

/** RFC 3339 date-time with real calendar checks (JS Date turns Feb 30 into Mar 1). */
export function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  const offsetOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  // Second 60 is RFC 3339's leap second; PostgreSQL accepts it too.
  return y >= 1 && days !== undefined && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 60 && offsetOk;
}

function boolValue(c: Comparison): SQL {
  if (c.value.text !== "true" && c.value.text !== "false") throw typeError(c.value, c.field, "true or false");
  // A JS boolean: postgres.js serialises a boolean parameter as `x === true`,
  // so the string "true" would silently bind false.
  return sql`${c.value.text === "true"}::boolean`;
}

function enumValue(c: Comparison, values: readonly string[]): SQL;
function enumValue(c: Comparison, values: readonly string[], name: true): string;
function enumValue(c: Comparison, values: readonly string[], name?: true): SQL | string {
  const wanted = c.value.text.toUpperCase();
  const canonical = values.find((v) => v.toUpperCase() === wanted);
  if (canonical === undefined) throw typeError(c.value, c.field, `one of ${values.join(", ")}`);
  return name ? canonical : sql`${canonical}`;
}

// AIP-160: booleans and enums get =, != and : only; their order means nothing.
function equalityOnly(c: Comparison, op: Op, what: string): void {
  if (op !== "=" && op !== "!=") throw filterError(c.opPos, `${c.field} is ${what}: compare it with =, != or :, not ${quote(c.op)}`);
}

function typeError(v: FilterValue, field: string, expected: string) {
  return filterError(v.pos, `expected ${expected} for ${field}, found ${quote(v.text)}`);
}

function quote(s: string): string {
  return JSON.stringify(printable(s, 40));
}
