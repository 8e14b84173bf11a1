// Test support, imported as `@modelreg/db/testing` (never by the server):
// throwaway databases, and one describe() per database driver. The same
// suites run on PGlite always and on PostgreSQL when DATABASE_URL names a
// server where tests may create and drop databases.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { describe } from "vitest";
import { openDatabase, type DatabaseHandle } from "./open-database.js";

export type DriverKind = "pglite" | "postgres";

export interface TestDatabase extends DatabaseHandle {
  /** The URL of the fresh PostgreSQL database, or undefined on PGlite. */
  readonly url: string | undefined;
}

/** The same server URL with another database name. */
export function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

/**
 * How this run's throwaway databases are named: MODELREG_TEST_DB_PREFIX
 * (set by .ci/run, unique to the run, so its cleanup drops what this run
 * made and nothing of another run on the same server), else modelreg_test.
 */
export function testDatabasePrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = env.MODELREG_TEST_DB_PREFIX?.trim() || "modelreg_test";
  if (!/^[a-z][a-z0-9_]{7,39}$/.test(prefix)) throw new Error(`MODELREG_TEST_DB_PREFIX must be 8-40 of a-z, 0-9 and _, starting with a letter; got "${prefix}"`);
  return prefix;
}

/** A fresh, empty (unmigrated) database on the DATABASE_URL server, and a way to drop it. */
export async function createEmptyPostgres(serverUrl = process.env.DATABASE_URL): Promise<{ url: string; drop(): Promise<void> }> {
  if (!serverUrl) throw new Error("a PostgreSQL test database needs DATABASE_URL");
  const name = `${testDatabasePrefix()}_${randomBytes(6).toString("hex")}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  return { url: withDatabase(serverUrl, name), drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

let template: Promise<Blob> | undefined;

/**
 * A migrated PGlite database as a dump, made once per process: each test
 * database starts from a copy of it instead of running initdb and the
 * migrations again, most of a test database's cost. The migrations
 * themselves are tested on a fresh cluster in open-database.test.ts.
 */
function migratedPglite(): Promise<Blob> {
  template ??= (async () => {
    const handle = await openDatabase({ dataDir: "memory://" });
    try {
      await handle.migrate();
      return await handle.dumpDataDir!();
    } finally {
      await handle.close();
    }
  })();
  return template;
}

/** A fresh, migrated database on the given driver (PGlite in memory, or a new PostgreSQL database). */
export async function createTestDatabase(kind: DriverKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const handle = await openDatabase({ dataDir: "memory://", loadDataDir: await migratedPglite() });
    return { ...handle, url: undefined };
  }
  const empty = await createEmptyPostgres();
  const handle = await openDatabase({ url: empty.url });
  await handle.migrate();
  return {
    ...handle,
    url: empty.url,
    async close() {
      await handle.close();
      await empty.drop();
    },
  };
}

/**
 * describe() once per driver. Without DATABASE_URL the PostgreSQL run is
 * skipped, and its title says what it needs.
 */
export function describeEachDatabase(title: string, body: (kind: DriverKind) => void): void {
  describe(`${title} [pglite]`, () => body("pglite"));
  if (process.env.DATABASE_URL) describe(`${title} [postgres]`, () => body("postgres"));
  else describe.skip(`${title} [postgres] (skipped: set DATABASE_URL to a PostgreSQL server to run)`, () => body("postgres"));
}
export { databaseTarget, startOutageProxy, throughProxy, type OutageMode, type OutageProxy } from "./outage-proxy.js";
