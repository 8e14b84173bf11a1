// Raw SQL beside the query builder: named prepared statements, and their rows
// (postgres.js hands back an array, PGlite an object with `rows`).
import type { Database } from "@modelreg/db";
import type { SQL } from "drizzle-orm";

export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

interface RawPrepared {
  execute(values: Record<string, unknown>): Promise<unknown>;
}

/**
 * A raw statement with `sql.placeholder(...)` values, prepared once under
 * `name` on each connection (Drizzle's `db.execute` re-plans every call). It
 * goes through the session both drivers implement; Drizzle types it as
 * internal, hence the cast.
 */
export function prepareRaw(db: Database, name: string, statement: SQL): RawPrepared {
  const { session, dialect } = db as unknown as {
    session: { prepareQuery(query: unknown, fields: undefined, name: string, arrayMode: boolean): RawPrepared };
    dialect: { sqlToQuery(sql: SQL): unknown };
  };
  return session.prepareQuery(dialect.sqlToQuery(statement), undefined, name, false);
}
