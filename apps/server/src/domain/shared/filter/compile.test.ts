// compileFilter: the SQL it builds (user text only in parameters), the errors
// it raises, and, on real databases, that every filter selects exactly the
// rows it should, hostile text included.
import { sql, type SQL } from "drizzle-orm";
import { boolean, doublePrecision, integer, jsonb, PgDialect, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@modelreg/db/testing";
import { InvalidArgumentError } from "../errors.js";
import { rowsOf } from "../raw-rows.js";
import { compileFilter, isRfc3339, parseFilter, type FilterFields } from "./index.js";

// A throwaway table, created by the tests themselves (not in the schema).
const items = pgTable("filter_test_items", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  state: text("state").notNull(),
  score: doublePrecision("score"),
  labels: jsonb("labels").$type<Record<string, string>>().notNull(),
  metrics: jsonb("metrics").$type<Record<string, unknown>>().notNull(),
  createTime: timestamp("create_time", { withTimezone: true, mode: "date" }),
  active: boolean("active"),
});

const FIELDS: FilterFields = {
  name: { kind: "string", column: items.name },
  state: { kind: "enum", column: items.state, values: ["ACTIVE", "ARCHIVED", "DRAFT"] },
  score: { kind: "number", column: items.score },
  create_time: { kind: "timestamp", column: items.createTime },
  active: { kind: "bool", column: items.active },
  labels: { kind: "map", column: items.labels, valueKind: "string" },
  metrics: { kind: "map", column: items.metrics, valueKind: "number" },
};

const dialect = new PgDialect();
const toQuery = (filter: string) => {
  const { sql: text, params } = dialect.sqlToQuery(compileFilter(parseFilter(filter), FIELDS));
  return { sql: text, params };
};

function errorOf(filter: string): string {
  try {
    compileFilter(parseFilter(filter), FIELDS);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    const v = (e as InvalidArgumentError).violations;
    expect(v[0]!.field).toBe("filter");
    return v[0]!.description;
  }
  throw new Error(`compiled without error: ${filter}`);
}

describe("compileFilter: SQL", () => {
  it("compiles the empty filter to true", () => {
    expect(toQuery("")).toEqual({ sql: "true", params: [] });
  });

  it("passes map keys and values as parameters", () => {
    // Equality is containment, which a GIN index on the map answers.
    expect(toQuery('labels.team = "risk"')).toEqual({ sql: '("filter_test_items"."labels" @> $1::jsonb)', params: ['{"team":"risk"}'] });
    expect(toQuery('labels.team != "risk"')).toEqual({ sql: '(("filter_test_items"."labels" ->> $1::text) IS DISTINCT FROM $2)', params: ["team", "risk"] });
    expect(toQuery("labels:team")).toEqual({ sql: '("filter_test_items"."labels" ? $1::text)', params: ["team"] });
    expect(toQuery("metrics.f1 > 0.85")).toEqual({
      sql: `((CASE WHEN jsonb_typeof("filter_test_items"."metrics" -> $1::text) = 'number' THEN ("filter_test_items"."metrics" ->> $2::text)::double precision END) > $3::double precision)`,
      params: ["f1", "f1", 0.85],
    });
  });

  it("binds typed parameters and keeps NOT a two-valued complement", () => {
    expect(toQuery("active = true")).toEqual({ sql: '("filter_test_items"."active" = $1::boolean)', params: [true] });
    expect(toQuery('create_time >= "2024-01-31T12:00:00.123456Z"')).toEqual({
      sql: '("filter_test_items"."create_time" >= $1::timestamptz)',
      params: ["2024-01-31T12:00:00.123456Z"],
    });
    expect(toQuery("state = archived")).toEqual({ sql: '("filter_test_items"."state" = $1)', params: ["ARCHIVED"] });
    expect(toQuery("NOT score > 1").sql).toBe('((("filter_test_items"."score" > $1::double precision)) IS NOT TRUE)');
    expect(toQuery("name != x").sql).toBe('("filter_test_items"."name" IS DISTINCT FROM $1)');
    expect(toQuery("name:b").sql).toBe('("filter_test_items"."name" = $1)');
    expect(toQuery("name:*").sql).toBe(`("filter_test_items"."name" IS NOT NULL AND "filter_test_items"."name" <> '')`);
  });

  it("combines with AND/OR in the parsed precedence", () => {
    expect(toQuery("name = a AND name = b OR name = c").sql).toBe(
      '(("filter_test_items"."name" = $1) and (("filter_test_items"."name" = $2) or ("filter_test_items"."name" = $3)))',
    );
  });

  it("never puts user text into the SQL string", () => {
    const hostile = [
      `name = "'; DROP TABLE filter_test_items; --"`,
      String.raw`name = "x\" OR 1=1 --"`,
      "name = a;DELETE/**/FROM/**/x;--",
      `labels:"'); DROP TABLE filter_test_items; --"`,
      "labels.a;DROP/**/TABLE/**/x;-- = v",
      "labels.$$evil$$ = $1",
      String.raw`name = "naïve 🚀 \\ ''"`,
    ];
    for (const filter of hostile) {
      const q = toQuery(filter);
      expect(q.sql, filter).not.toMatch(/DROP|DELETE|evil|OR 1|naïve|;|'\)/);
      expect(q.params.length, filter).toBeGreaterThan(0);
    }
  });
});

describe("compileFilter: errors", () => {
  const cases: [string, string][] = [
    ["owner = bob", 'at position 1: unknown field "owner"; the fields you can filter on are active, create_time, labels.<key>, metrics.<key>, name, score, state'],
    ["constructor = x", 'at position 1: unknown field "constructor"; the fields you can filter on are active, create_time, labels.<key>, metrics.<key>, name, score, state'],
    ["__proto__ = x", 'at position 1: unknown field "__proto__"; the fields you can filter on are active, create_time, labels.<key>, metrics.<key>, name, score, state'],
    ["name.first = x", 'at position 1: unknown field "name.first"; the fields you can filter on are active, create_time, labels.<key>, metrics.<key>, name, score, state'],
    ['create_time > "yesterday"', 'at position 15: expected an RFC 3339 timestamp, such as "2024-01-31T12:00:00Z" or "2024-01-31T13:00:00+01:00" for create_time, found "yesterday"'],
    ['create_time > "2024-02-30T00:00:00Z"', 'at position 15: expected an RFC 3339 timestamp, such as "2024-01-31T12:00:00Z" or "2024-01-31T13:00:00+01:00" for create_time, found "2024-02-30T00:00:00Z"'],
    ['create_time > "2024-01-31"', 'at position 15: expected an RFC 3339 timestamp, such as "2024-01-31T12:00:00Z" or "2024-01-31T13:00:00+01:00" for create_time, found "2024-01-31"'],
    ['metrics.f1 = "high"', 'at position 14: expected a number, such as 42, -1.5 or 2.5e-3 for metrics.f1, found "high"'],
    ["score > Infinity", 'at position 9: expected a number, such as 42, -1.5 or 2.5e-3 for score, found "Infinity"'],
    ["score > 1e999", 'at position 9: expected a number, such as 42, -1.5 or 2.5e-3 for score, found "1e999"'],
    ["score > 0x10", 'at position 9: expected a number, such as 42, -1.5 or 2.5e-3 for score, found "0x10"'],
    ["active = yes", 'at position 10: expected true or false for active, found "yes"'],
    ["active = TRUE", 'at position 10: expected true or false for active, found "TRUE"'],
    ["active > false", 'at position 8: active is a boolean: compare it with =, != or :, not ">"'],
    ["state = deleted", 'at position 9: expected one of ACTIVE, ARCHIVED, DRAFT for state, found "deleted"'],
    ["state >= ACTIVE", 'at position 7: state is an enum: compare it with =, != or :, not ">="'],
    ['labels = "x"', 'at position 8: labels is a map: compare one key, as in labels.key = "value", or test for a key with labels:key'],
    ["labels:*", 'at position 7: labels is a map: compare one key, as in labels.key = "value", or test for a key with labels:key'],
    ['name = "resnet*"', 'at position 8: "*" wildcards are not supported yet: a value compared with name must not start or end with "*"'],
    ["labels.team != *risk", 'at position 16: "*" wildcards are not supported yet: a value compared with labels.team must not start or end with "*"'],
    ["name = x AND (score > 1 OR active = maybe)", 'at position 37: expected true or false for active, found "maybe"'],
  ];
  it.each(cases)("%j", (filter, message) => {
    expect(errorOf(filter)).toBe(message);
  });

  it("accepts enum names in any case and quoted numbers", () => {
    expect(toQuery("state = Active").params).toEqual(["ACTIVE"]);
    expect(toQuery('score = "0.5"').params).toEqual([0.5]);
    expect(toQuery('name < "b*"').params).toEqual(["b*"]);
  });

  it("validates RFC 3339 timestamps on the calendar", () => {
    for (const ok of ["2024-02-29T00:00:00Z", "2024-12-31T23:59:60Z", "2024-01-31t12:00:00.123456789+14:00", "0001-01-01T00:00:00z"]) expect(isRfc3339(ok), ok).toBe(true);
    for (const bad of ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "0000-01-01T00:00:00Z", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00.Z"])
      expect(isRfc3339(bad), bad).toBe(false);
  });
});

// Rows chosen so each filter below has one right answer; names and labels
// hold the text injection attempts use.
const ROWS: (typeof items.$inferInsert)[] = [
  { id: 1, name: "alpha", state: "ACTIVE", score: 0.9, labels: { team: "risk", env: "prod" }, metrics: { f1: 0.91, loss: 0.2 }, createTime: new Date("2024-01-01T00:00:00Z"), active: true },
  { id: 2, name: `O'Brien "quoted"`, state: "ARCHIVED", score: 0.5, labels: { team: "fraud", "app.kubernetes.io/name": "svc" }, metrics: { f1: 0.8 }, active: false },
  { id: 3, name: "x'; DROP TABLE filter_test_items; --", state: "ACTIVE", score: -1.5, labels: { team: "a;b", note: "back\\slash" }, metrics: { f1: "n/a" }, createTime: new Date("2024-03-01T00:00:00Z"), active: true },
  { id: 4, name: "naïve café 🚀", state: "DRAFT", score: null, labels: {}, metrics: {}, createTime: null, active: null },
  { id: 5, name: "back\\slash", state: "ARCHIVED", score: 100, labels: { team: 'risk "core"' }, metrics: { f1: 0.001 }, createTime: new Date("2024-01-01T01:00:00Z"), active: false },
  { id: 6, name: "", state: "ACTIVE", score: 0, labels: { team: "RISK" }, metrics: { f1: 0.85 }, active: true },
  { id: 7, name: "50%_off", state: "ACTIVE", score: 0.0025, labels: { "x'y": "1", "🚀": "ünï" }, metrics: {}, createTime: new Date("2023-06-01T00:00:00Z"), active: true },
];

// [filter, ids it must select]
const MATCHES: [string, number[]][] = [
  ["", [1, 2, 3, 4, 5, 6, 7]],
  // Strings: exact, case-sensitive, quotes and escapes taken literally.
  ['name = "alpha"', [1]],
  ["name = alpha", [1]],
  ['name = "Alpha"', []],
  [String.raw`name = "O'Brien \"quoted\""`, [2]],
  [String.raw`name = 'O\'Brien "quoted"'`, [2]],
  [`name = "x'; DROP TABLE filter_test_items; --"`, [3]],
  [`name = "' OR '1'='1"`, []],
  [String.raw`name = "alpha\" OR \"1\"=\"1"`, []],
  ["name = a;DROP", []],
  [`name = "naïve café 🚀"`, [4]],
  [String.raw`name = "back\\slash"`, [5]],
  // No LIKE semantics: % and _ are ordinary characters.
  ['name = "50%_off"', [7]],
  ['name = "50__off"', []],
  ['name = ""', [6]],
  ['name != "alpha"', [2, 3, 4, 5, 6, 7]],
  ["name:*", [1, 2, 3, 4, 5, 7]],
  ['name:"alpha"', [1]],
  ['name >= "alpha" AND name < "alphb"', [1]],
  // Enums: any case in, canonical stored.
  ["state = active", [1, 3, 6, 7]],
  ["state = ARCHIVED OR state = Draft", [2, 4, 5]],
  ["state != ACTIVE", [2, 4, 5]],
  // Numbers; NULL score (row 4) matches only negations.
  ["score > 0.5", [1, 5]],
  ["score >= 0.5", [1, 2, 5]],
  ["score = -1.5", [3]],
  ["score < 0", [3]],
  ["score <= 2.5e-3 AND score >= 0", [6, 7]],
  ['score = "0.9"', [1]],
  ["NOT score > 0.5", [2, 3, 4, 6, 7]],
  ["score != 0.9", [2, 3, 4, 5, 6, 7]],
  ["score:*", [1, 2, 3, 5, 6, 7]],
  // Timestamps, with offsets and microseconds.
  ['create_time >= "2024-01-01T00:00:00Z" AND create_time < "2024-01-02T00:00:00Z"', [1, 5]],
  ["create_time > 2024-01-01T00:00:00Z", [3, 5]],
  ['create_time = "2024-01-01T03:00:00+02:00"', [5]],
  ['create_time < "2024-01-01T00:00:00.000001Z"', [1, 7]],
  ["create_time:*", [1, 3, 5, 7]],
  ["NOT create_time:*", [2, 4, 6]],
  // Booleans, bound as real booleans on both drivers.
  ["active = true", [1, 3, 6, 7]],
  ["active = false", [2, 5]],
  ['active = "false"', [2, 5]],
  ["active != true", [2, 4, 5]],
  ["NOT active = true", [2, 4, 5]],
  // String maps.
  ['labels.team = "risk"', [1]],
  ["labels.team = risk", [1]],
  ["labels.team = RISK", [6]],
  [`labels.team = 'risk "core"'`, [5]],
  ['labels.team = "a;b"', [3]],
  [String.raw`labels.note = "back\\slash"`, [3]],
  ["labels.app.kubernetes.io/name = svc", [2]],
  ['labels.🚀 = "ünï"', [7]],
  ["labels.team:risk", [1]],
  ["labels:team", [1, 2, 3, 5, 6]],
  ["labels.team:*", [1, 2, 3, 5, 6]],
  ["-labels:team", [4, 7]],
  ['labels:"app.kubernetes.io/name"', [2]],
  [`labels:"x'y"`, [7]],
  [`labels:"'); DROP TABLE filter_test_items; --"`, []],
  ["labels.missing = x", []],
  ['labels:"*"', []],
  ['labels.team != "risk"', [2, 3, 4, 5, 6, 7]],
  ['NOT labels.team = "risk"', [2, 3, 4, 5, 6, 7]],
  // Number maps: a non-number stored value ("n/a", row 3) matches nothing, without an error.
  ["metrics.f1 > 0.85", [1]],
  ["metrics.f1 >= 0.85", [1, 6]],
  ["metrics.f1 < 0.01", [5]],
  ["metrics.f1 > -1", [1, 2, 5, 6]],
  ["NOT metrics.f1 > -1", [3, 4, 7]],
  ["metrics.loss = 0.2", [1]],
  ["metrics.f1:*", [1, 2, 3, 5, 6]],
  ["metrics.f1:0.8", [2]],
  // Precedence: OR binds tighter than AND.
  ["state = ACTIVE AND labels.team = risk OR labels.team = fraud", [1]],
  ["(state = ACTIVE AND labels.team = risk) OR labels.team = fraud", [1, 2]],
  ["labels.team = fraud OR labels.team = risk AND state = ACTIVE", [1]],
  ["NOT (state = ACTIVE OR state = ARCHIVED)", [4]],
  ["-(score > 0 AND active = true)", [2, 3, 4, 5, 6]],
];

const hasPostgres = Boolean(process.env.DATABASE_URL);

describe.each(["pglite", "postgres"] as const)("compileFilter on a real database [%s]", (kind) => {
  const skip = kind === "postgres" && !hasPostgres;
  const run = skip ? it.skip : it;
  const suffix = skip ? " (skipped: set DATABASE_URL)" : "";
  let handle: TestDatabase | undefined;

  beforeAll(async () => {
    if (skip) return;
    handle = await createTestDatabase(kind);
    await handle.db.execute(sql`CREATE TABLE filter_test_items (
      id integer PRIMARY KEY, name text NOT NULL, state text NOT NULL, score double precision,
      labels jsonb NOT NULL, metrics jsonb NOT NULL, create_time timestamptz, active boolean)`);
    await handle.db.insert(items).values(ROWS);
  }, 60_000);

  afterAll(async () => {
    await handle?.close();
  });

  const idsOf = async (where: SQL) => (await handle!.db.select({ id: items.id }).from(items).where(where).orderBy(items.id)).map((r) => r.id);

  run.each(MATCHES)(`%j selects %j${suffix}`, async (filter, ids) => {
    expect(await idsOf(compileFilter(parseFilter(filter), FIELDS))).toEqual(ids);
  });

  run(`keeps the table intact after every hostile filter${suffix}`, async () => {
    const result = await handle!.db.execute(sql`SELECT count(*)::int AS n FROM filter_test_items`);
    expect(rowsOf<{ n: number }>(result)[0]!.n).toBe(ROWS.length);
  });

  run(`refuses, before any SQL, what it cannot match literally${suffix}`, async () => {
    for (const filter of [
      'name = "a\u0000b"',
      `name = "x"; DROP TABLE filter_test_items; --"`,
      "name = x'; DROP TABLE filter_test_items; --",
      "name = a';DELETE/**/FROM/**/x;--",
      "name;DROP = 1",
    ])
      expect(() => compileFilter(parseFilter(filter), FIELDS), filter).toThrow(InvalidArgumentError);
  });
});
