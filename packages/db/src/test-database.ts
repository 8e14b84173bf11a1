// Throwaway databases for tests: PGlite in memory, or a fresh database on the
// PostgreSQL server named by DATABASE_URL, dropped again on close.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { openDatabase, type DatabaseHandle } from "./open-database.js";

export interface TestDatabase extends DatabaseHandle {
  /** The URL of the fresh PostgreSQL database, or undefined on PGlite. */
  readonly url: string | undefined;
}

/** Creates a fresh database (migrated) on the given driver. */
export async function createTestDatabase(kind: "pglite" | "postgres", serverUrl = process.env.DATABASE_URL): Promise<TestDatabase> {
  if (kind === "pglite") {
    const handle = await openDatabase({ dataDir: "memory://" });
    await handle.migrate();
    return { ...handle, url: undefined };
  }
  if (!serverUrl) throw new Error("createTestDatabase('postgres') needs DATABASE_URL");
  const name = `modelreg_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(serverUrl, name);
  const handle = await openDatabase({ url });
  await handle.migrate();
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      const drop = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await drop.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await drop.end();
    },
  };
}

/** The same server URL with another database name. */
export function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
