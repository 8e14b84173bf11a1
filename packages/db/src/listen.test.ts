// LISTEN/NOTIFY through the database handle, on both drivers: a NOTIFY sent
// in a transaction arrives when it commits (never when it rolls back), a
// stopped listener hears nothing more, and on PostgreSQL a NOTIFY from
// another handle (another server replica) arrives too.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createTestDatabase, describeEachDatabase } from "./testing.js";
import { openDatabase } from "./open-database.js";

/** Resolves once `check` holds, polling each turn of the event loop (a timeout only catches a hang). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describeEachDatabase("listen", (kind) => {
  it("hears a NOTIFY when its transaction commits, never one rolled back, and nothing after it stops", async () => {
    const t = await createTestDatabase(kind);
    try {
      const heard: string[] = [];
      const other: string[] = [];
      let listening = 0;
      const stop = await t.listen("test_channel", (p) => heard.push(p), () => listening++);
      const stopOther = await t.listen("test_channel", (p) => other.push(p));
      expect(listening).toBe(1);
      await t.db
        .transaction(async (tx) => {
          await tx.execute(sql`SELECT pg_notify('test_channel', 'rolled back')`);
          throw new Error("roll back");
        })
        .catch(() => {});
      await t.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_notify('test_channel', 'committed')`);
      });
      await until(() => heard.length > 0, "the committed notification");
      expect(heard).toEqual(["committed"]);
      await stop();
      await t.db.execute(sql`SELECT pg_notify('test_channel', 'after stop')`);
      // Both listeners are told of one notification together: once the other has it, the stopped one would have too.
      await until(() => other.includes("after stop"), "the second notification");
      expect(heard).toEqual(["committed"]);
      await stopOther();
    } finally {
      await t.close();
    }
  }, 60_000);

});

// Another handle is another process's connection: PostgreSQL only (PGlite serves one process).
const noPostgres = process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)";
describe.skipIf(!process.env.DATABASE_URL)(`listen across handles [postgres]${noPostgres}`, () => {
  it("hears a NOTIFY sent through another handle (another replica)", async () => {
    const t = await createTestDatabase("postgres");
    const replica = await openDatabase({ url: t.url!, poolSize: 1 });
    try {
      const heard: string[] = [];
      const stop = await t.listen("test_channel", (p) => heard.push(p));
      await replica.db.execute(sql`SELECT pg_notify('test_channel', 'from the replica')`);
      await until(() => heard.length > 0, "the replica's notification");
      expect(heard).toEqual(["from the replica"]);
      await stop();
    } finally {
      await replica.close();
      await t.close();
    }
  }, 60_000);
});
