// detachRows() on a real PostgreSQL: what Drizzle and our raw SQL get back is
// what postgres.js itself returns (objects, arrays, counts), transactions and
// savepoints run on detached clients too, and failures still fail.
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detachQuery, detachRows, type PendingQuery } from "./detached-rows.js";
import { openDatabase, type DatabaseHandle } from "./open-database.js";
import { createEmptyPostgres } from "./testing.js";

const hasPostgres = Boolean(process.env.DATABASE_URL);
const suite = hasPostgres ? describe : describe.skip;

suite(`detachRows${hasPostgres ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server)"}`, () => {
  let empty: Awaited<ReturnType<typeof createEmptyPostgres>>;
  let plain: postgres.Sql;
  let detached: postgres.Sql;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    empty = await createEmptyPostgres();
    plain = postgres(empty.url, { max: 1, onnotice: () => {} });
    detached = detachRows(postgres(empty.url, { max: 1, onnotice: () => {} }));
    handle = await openDatabase({ url: empty.url, poolSize: 2 });
    await plain.unsafe("CREATE TABLE probe (id int PRIMARY KEY, doc jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())");
  }, 60_000);
  afterAll(async () => {
    await plain?.end();
    await detached?.end();
    await handle?.close();
    await empty?.drop();
  });

  const many = "SELECT g AS n, 'row ' || g::text AS label, jsonb_build_object('k', g) AS doc, NULL::text AS nothing FROM generate_series(1, $1::int) g ORDER BY g";

  it("returns the rows postgres.js returns, as objects or as arrays, with the result's count and command", async () => {
    const theirs = await plain.unsafe(many, [250]);
    const mine = await detached.unsafe(many, [250]);
    expect(Array.isArray(mine)).toBe(true);
    expect([...mine]).toEqual([...theirs]);
    expect(mine[0]).toEqual({ n: 1, label: "row 1", doc: { k: 1 }, nothing: null });
    expect(mine.count).toBe(250);
    expect(mine.command).toBe("SELECT");
    expect(mine.columns.map((c) => c.name)).toEqual(["n", "label", "doc", "nothing"]);
    expect([...(await detached.unsafe(many, [3]).values())]).toEqual([...(await plain.unsafe(many, [3]).values())]);
    expect([...(await detached.unsafe(many, [0]))]).toEqual([]);
    // Prepared statements (Drizzle's .prepare()) too.
    expect([...(await detached.unsafe(many, [2], { prepare: true }))]).toEqual([...theirs.slice(0, 2)]);
  });

  it("leaves the finished postgres.js query holding none of the rows (what keeps them out of the old generation)", async () => {
    // The plain query resolves with its rows, and keeps them for as long as it lives.
    const held = plain.unsafe(many, [50]);
    expect(await held).toHaveLength(50);
    expect(await held).toHaveLength(50);
    // Detached: the rows come back, the query resolves with an empty result and has no callback left.
    const query = plain.unsafe(many, [50]) as unknown as PendingQuery;
    const rows = await detachQuery(query);
    expect(rows).toHaveLength(50);
    expect(rows[49]).toMatchObject({ n: 50 });
    expect(query.forEachFn).toBeNull();
    expect([...((await query) as unknown[])]).toEqual([]);
  });

  it("keeps counts of writes and leaves queries without parameters (several statements) as they are", async () => {
    const inserted = await detached.unsafe("INSERT INTO probe (id, doc) SELECT g, '{}'::jsonb FROM generate_series(1, $1::int) g", [5]);
    expect(inserted.count).toBe(5);
    expect(inserted.command).toBe("INSERT");
    const both = await detached.unsafe("SELECT 1 AS a; SELECT 2 AS b");
    expect(both.map((r) => [...r])).toEqual([[{ a: 1 }], [{ b: 2 }]]);
  });

  it("fails as the statement fails, and the connection goes on", async () => {
    await expect(detached.unsafe("SELECT * FROM probe WHERE id = $1::int AND nope", [1])).rejects.toThrow(/nope/);
    expect([...(await detached.unsafe("SELECT count(*)::int AS n FROM probe WHERE id > $1", [0]))]).toEqual([{ n: 5 }]);
  });

  it("runs Drizzle's transactions and savepoints on detached clients: commit, rollback, nested rollback", async () => {
    const db = handle.db;
    const count = async () => {
      const rows = (await db.execute(sql`SELECT count(*)::int AS n FROM probe WHERE id >= ${100}`)) as unknown as { n: number }[];
      return rows[0]!.n;
    };
    await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO probe (id, doc) VALUES (${100}, ${"{}"}::jsonb)`);
      // Seen inside the transaction before it commits.
      expect([...((await tx.execute(sql`SELECT id FROM probe WHERE id = ${100}`)) as unknown as unknown[])]).toEqual([{ id: 100 }]);
      await tx
        .transaction(async (inner) => {
          await inner.execute(sql`INSERT INTO probe (id, doc) VALUES (${101}, ${"{}"}::jsonb)`);
          throw new Error("roll the savepoint back");
        })
        .catch(() => {});
    });
    expect(await count()).toBe(1);
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO probe (id, doc) VALUES (${102}, ${"{}"}::jsonb)`);
        throw new Error("roll it all back");
      }),
    ).rejects.toThrow(/roll it all back/);
    expect(await count()).toBe(1);
  });

  it("prepares statements of up to prepareUpTo parameters once per connection, Drizzle's and raw, and runs them again after a schema change", async () => {
    const client = postgres(empty.url, { max: 1, onnotice: () => {} });
    const prepared = detachRows(client, { prepareUpTo: 3 });
    const names = async () => (await prepared.unsafe("SELECT statement FROM pg_prepared_statements")).map((r) => String((r as unknown as { statement: string }).statement));
    try {
      // Drizzle asks for prepare: false; within the limit it is prepared anyway.
      const q = "SELECT id, doc FROM probe WHERE id = $1::int";
      expect([...(await prepared.unsafe(q, [1], { prepare: false }))]).toEqual([{ id: 1, doc: {} }]);
      expect([...(await prepared.unsafe(q, [2], { prepare: false }))]).toEqual([{ id: 2, doc: {} }]);
      expect((await names()).filter((n) => n === q)).toHaveLength(1);
      // Over the limit: not prepared (batches whose text changes with their size).
      const wide = "SELECT count(*)::int AS n FROM probe WHERE id IN ($1::int, $2::int, $3::int, $4::int)";
      expect([...(await prepared.unsafe(wide, [1, 2, 3, 4]))]).toEqual([{ n: 4 }]);
      expect(await names()).not.toContain(wide);
      // A column added under a prepared "SELECT *": PostgreSQL drops the plan, postgres.js prepares it again.
      const star = "SELECT * FROM probe WHERE id = $1::int";
      expect(Object.keys((await prepared.unsafe(star, [1]))[0] as object)).toEqual(["id", "doc", "at"]);
      await plain.unsafe("ALTER TABLE probe ADD COLUMN note text");
      expect(Object.keys((await prepared.unsafe(star, [1]))[0] as object)).toEqual(["id", "doc", "at", "note"]);
      await plain.unsafe("ALTER TABLE probe DROP COLUMN note");
      // Nothing prepared without the option.
      await detached.unsafe(q, [1]);
      const theirs = await detached.unsafe("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1::text", [q]);
      expect([...theirs]).toEqual([{ n: 0 }]);
    } finally {
      await client.end();
    }
  });
});
