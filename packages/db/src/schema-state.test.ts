// schemaState(): a database is ready when every migration this build ships
// is applied; and stats() tells the pool's use without a query.
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { openDatabase } from "./open-database.js";
import { schemaState } from "./schema-state.js";
import { createTestDatabase, describeEachDatabase } from "./testing.js";

it("says a fresh database was never migrated, and a migrated one is ready", async () => {
  const h = await openDatabase({ dataDir: "memory://" });
  try {
    expect(await schemaState(h.db)).toEqual({ migrated: false, reason: expect.stringContaining("never migrated") });
    await h.migrate();
    expect(await schemaState(h.db)).toEqual({ migrated: true });
    expect(h.stats()).toEqual({ poolSize: 1, unreachable: false });
  } finally {
    await h.close();
  }
}, 60_000);

describeEachDatabase("schema state", (kind) => {
  it("says a schema behind this build's migrations is older than the server", async () => {
    const t = await createTestDatabase(kind);
    try {
      await t.db.execute(sql`DELETE FROM drizzle.__drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM drizzle.__drizzle_migrations)`);
      expect(await schemaState(t.db)).toEqual({ migrated: false, reason: expect.stringContaining("older than this server") });
      if (kind === "postgres") expect(t.stats()).toEqual({ poolSize: 10, inUse: 0, waiting: 0, unreachable: false });
    } finally {
      await t.close();
    }
  }, 60_000);
});
