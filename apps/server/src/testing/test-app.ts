// The real router over a fresh database, driven in-process through the SDK.
// The same suites run on PGlite and, when DATABASE_URL is set, PostgreSQL.
import { createRouterTransport } from "@connectrpc/connect";
import { createTestDatabase, type TestDatabase } from "@modelreg/db";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { describe } from "vitest";
import { createApp } from "../app.js";
import { ensureDefaultWorkspace } from "../domain/workspaces.js";
import { createLogger } from "../logger.js";

export interface TestApp {
  client: RegistryClient;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function createTestApp(kind: "pglite" | "postgres"): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  await ensureDefaultWorkspace(database.db);
  const app = createApp({ db: database.db, logger: createLogger("silent") });
  const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
  return { client: createRegistryClient({ baseUrl: "http://in-process", transport }), database, close: () => database.close() };
}

export type DriverKind = "pglite" | "postgres";

/**
 * describe() once per database driver. The PostgreSQL run needs DATABASE_URL
 * (a server where the tests may create and drop databases); without it that
 * run is skipped and says so in its title.
 */
export function describeEachDriver(title: string, body: (kind: DriverKind) => void): void {
  describe(`${title} [pglite]`, () => body("pglite"));
  if (process.env.DATABASE_URL) describe(`${title} [postgres]`, () => body("postgres"));
  else describe.skip(`${title} [postgres] (skipped: set DATABASE_URL to a PostgreSQL server to run)`, () => body("postgres"));
}
