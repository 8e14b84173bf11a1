// Calls through openDatabase() while connections are reset and new ones
// refused or never answered, again and again: every call ends (an answer or
// an error, never a wait without end), nothing escapes as an uncaught error
// (vitest fails the run on one), and the pool answers once the database is
// back. postgres.js 3.4.9 failed this: a transaction whose connection was
// reset could wait forever (the server's shutdown then hung on the job that
// ran it), and its rollback on the dead connection threw out of a timer.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "./open-database.js";
import { createEmptyPostgres, databaseTarget, type OutageMode, type OutageProxy, startOutageProxy, throughProxy } from "./testing.js";

const firstRow = (rows: unknown) => (rows as Record<string, unknown>[])[0];

/** Whether a query is answered now (a hang shows as the test's timeout). */
const answers = (db: DatabaseHandle["db"]) =>
  db.execute(sql`SELECT 1 AS one`).then(
    (rows) => {
      expect(firstRow(rows)).toEqual({ one: 1 });
      return true;
    },
    () => false,
  );

const noPostgres = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";

describe.skipIf(!process.env.DATABASE_URL)(`calls through database outages [postgres]${noPostgres}`, () => {
  let pg: Awaited<ReturnType<typeof createEmptyPostgres>>;
  let proxy: OutageProxy;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    pg = await createEmptyPostgres();
    proxy = await startOutageProxy(databaseTarget(pg.url));
    handle = await openDatabase({ url: throughProxy(pg.url, proxy.port), poolSize: 4, acquireTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await handle?.close();
    await proxy?.close();
    await pg?.drop();
  });

  it.each<OutageMode>(["refuse", "blackhole"])("every call ends, in or out of a transaction, when connections are lost (%s)", async (mode) => {
    const { db } = handle;
    const outcomes = { ok: 0, failed: 0 };
    let stop = false;
    // 16 callers on a pool of 4: transactions (with a savepoint), and plain queries that queue and pipeline.
    const caller = async (i: number) => {
      for (let n = 0; !stop; n++) {
        try {
          if (n % 3 === 0)
            await db.transaction(async (tx) => {
              await tx.execute(sql`SELECT pg_sleep(0.002), ${i}::int`);
              await tx.transaction(async (sp) => sp.execute(sql`SELECT 1`));
            });
          else await db.execute(sql`SELECT pg_sleep(0.001), ${i}::int`);
          outcomes.ok++;
        } catch {
          outcomes.failed++;
          await new Promise((r) => setTimeout(r, 2));
        }
      }
    };
    const callers = Array.from({ length: 16 }, (_, i) => caller(i));
    for (let round = 0; round < 8; round++) {
      const before = outcomes.ok;
      // Each outage comes while calls are answered.
      while (outcomes.ok < before + 20) await new Promise((r) => setTimeout(r, 5));
      await proxy.set(mode);
      const failedBefore = outcomes.failed;
      while (outcomes.failed === failedBefore) await new Promise((r) => setTimeout(r, 5));
      await proxy.set("forward");
    }
    stop = true;
    // A caller waiting without end shows as this test's timeout.
    await Promise.all(callers);
    expect(outcomes.failed).toBeGreaterThan(0);
    // Back: calls are answered again once the driver's short wait before a new connection (at most 250 ms) is over; until then they fail fast.
    let attempts = 1;
    for (; !(await answers(db)); attempts++) await new Promise((r) => setTimeout(r, 10));
    console.log(`[${mode}] answered again at attempt ${attempts}; ${outcomes.ok} calls answered, ${outcomes.failed} failed meanwhile`);
    expect(firstRow(await db.transaction(async (tx) => tx.execute(sql`SELECT 2 AS two`)))).toEqual({ two: 2 });
  }, 60_000);
});
