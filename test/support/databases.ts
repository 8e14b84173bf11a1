// The databases an end-to-end suite runs on: PGlite always, PostgreSQL when
// DATABASE_URL names a server (a fresh database per suite, dropped after).
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { describe } from "vitest";

export type Backend = "pglite" | "postgres";

export function describeEachBackend(title: string, body: (backend: Backend) => void): void {
  describe(`${title} [pglite]`, () => body("pglite"));
  if (process.env.DATABASE_URL) describe(`${title} [postgres]`, () => body("postgres"));
  else describe.skip(`${title} [postgres] (skipped: set DATABASE_URL to a PostgreSQL server to run)`, () => body("postgres"));
}

/** Creates a fresh, empty database on the DATABASE_URL server. */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error("freshPostgres needs DATABASE_URL");
  const name = `modelreg_e2e_${randomBytes(6).toString("hex")}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(server, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
