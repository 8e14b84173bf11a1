// Whether a database holds the schema this build expects: every migration
// shipped in drizzle/ applied (a newer replica may have applied more, which
// is fine). One small query, so a readiness probe can run it often; it
// also proves the database answers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { migrationsFolder, type Database } from "./open-database.js";

/** The ready schema, or why not. */
export type SchemaState = { migrated: true } | { migrated: false; reason: string };

let shipped: number | undefined;

/** When the newest migration of this build was made (drizzle-kit's journal, as the migrator records it). */
function newestShipped(): number {
  if (shipped === undefined) {
    const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: { when: number }[] };
    shipped = Math.max(0, ...journal.entries.map((e) => e.when));
  }
  return shipped;
}

/** Reads the migrations table; throws what the driver throws when the database cannot be reached. */
export async function schemaState(db: Database): Promise<SchemaState> {
  let latest: number | null;
  try {
    const result = await db.execute(sql`SELECT max(created_at)::text AS latest FROM drizzle.__drizzle_migrations`);
    const rows = (Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? [])) as { latest: string | null }[];
    latest = rows[0]?.latest == null ? null : Number(rows[0].latest);
  } catch (err) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: never migrated.
    if (hasCode(err, ["42P01", "3F000"])) return { migrated: false, reason: "the database has no modelreg schema: it was never migrated" };
    throw err;
  }
  if (latest === null) return { migrated: false, reason: "the database has no modelreg schema: it was never migrated" };
  if (latest < newestShipped()) return { migrated: false, reason: "the database schema is older than this server: its migrations have not all been applied" };
  return { migrated: true };
}

function hasCode(err: unknown, codes: string[]): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && codes.includes(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
