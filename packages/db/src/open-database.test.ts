// Migrations apply on both drivers, are idempotent, and concurrent starts on
// one PostgreSQL database migrate once (advisory lock).
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createTestDatabase, describeEachDatabase } from "./testing.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { migrationsFolder, openDatabase } from "./open-database.js";

const hasPostgres = Boolean(process.env.DATABASE_URL);

describeEachDatabase("migrations", (kind) => {
  it("create the schema and can be re-applied", async () => {
    // On PGlite a fresh cluster (test databases otherwise start from a migrated copy); PostgreSQL's is new and migrated once already.
    const t = kind === "pglite" ? await openDatabase({ dataDir: "memory://" }) : await createTestDatabase(kind);
    try {
      await t.migrate();
      await t.migrate();
      const rows = await t.db.execute<{ table_name: string }>(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
      );
      const names = (Array.isArray(rows) ? rows : (rows as { rows: { table_name: string }[] }).rows).map((r) => r.table_name);
      expect(names).toEqual(expect.arrayContaining(["models", "versions", "workspaces", "access_keys", "audit_events"]));
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe("concurrent migration", () => {
  const run = hasPostgres ? it : it.skip;
  run(`on one PostgreSQL database from 4 processes' handles succeeds${hasPostgres ? "" : " (skipped: set DATABASE_URL)"}`, async () => {
    const t = await createTestDatabase("postgres");
    try {
      // A fresh database again, so the migrations genuinely race.
      await t.db.execute(sql`drop schema public cascade`);
      await t.db.execute(sql`drop schema if exists drizzle cascade`);
      await t.db.execute(sql`create schema public`);
      const handles = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url: t.url!, poolSize: 2 })));
      await Promise.all(handles.map((h) => h.migrate()));
      await Promise.all(handles.map((h) => h.close()));
      const applied = await t.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      const n = (Array.isArray(applied) ? applied : (applied as { rows: { n: number }[] }).rows)[0] as { n: number };
      // Each migration applied exactly once, however many processes raced.
      const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8")) as { entries: unknown[] };
      expect(n.n).toBe(journal.entries.length);
    } finally {
      await t.close();
    }
  }, 60_000);
});
