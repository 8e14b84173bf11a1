// selectRows() on both databases: the same rows as db.execute(), in and out
// of a transaction, and a failing statement still fails.
import { createTestDatabase, describeEachDatabase, type TestDatabase } from "@modelreg/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { rowsOf, selectRows } from "./raw-rows.js";

describeEachDatabase("selectRows", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const statement = (n: number) =>
    sql`SELECT g AS n, 'row ' || g::text AS label, jsonb_build_object('k', g) AS doc, now() AS at, NULL::text AS nothing
        FROM generate_series(1, ${n}::int) AS g ORDER BY g`;

  it("returns what db.execute returns, row for row", async () => {
    const expected = rowsOf<Record<string, unknown>>(await t.db.execute(statement(250)));
    const rows = await selectRows<Record<string, unknown>>(t.db, statement(250));
    expect(rows).toHaveLength(250);
    expect(rows.map((r) => ({ ...r, at: undefined }))).toEqual(expected.map((r) => ({ ...r, at: undefined })));
    expect(rows[0]).toMatchObject({ label: "row 1", doc: { k: 1 }, nothing: null });
    expect(await selectRows(t.db, statement(0))).toEqual([]);
  });

  it("reads inside a transaction what the transaction wrote", async () => {
    await t.db.execute(sql`CREATE TABLE raw_rows_probe (id int PRIMARY KEY)`);
    const seen = await t.db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO raw_rows_probe VALUES (1), (2)`);
      return selectRows<{ id: number }>(tx, sql`SELECT id FROM raw_rows_probe ORDER BY id`);
    });
    expect(seen.map((r) => Number(r.id))).toEqual([1, 2]);
  });

  it("fails as the statement fails", async () => {
    await expect(selectRows(t.db, sql`SELECT * FROM raw_rows_missing_table`)).rejects.toThrow(/raw_rows_missing_table/);
  });
});
