// The real router over a fresh database, driven in-process through the SDK.
// The same suites run on PGlite and, when DATABASE_URL is set, PostgreSQL.
import { createRouterTransport } from "@connectrpc/connect";
import { createTestDatabase, type DriverKind, type TestDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { createApp } from "../app.js";
import { ensureDefaultWorkspace } from "../domain/workspaces.js";
import { createLogger } from "../logger.js";

export interface TestApp {
  client: RegistryClient;
  /** A client with this access key ("" = none at all). */
  clientWith(accessKey?: string): RegistryClient;
  database: TestDatabase;
  close(): Promise<void>;
}

/** A server-wide admin token for in-process tests with auth on. */
export const TEST_ADMIN_TOKEN = "test-admin.0123456789abcdefghijklmnopqrstuvwxyzABCD";

/**
 * `auth: false` (the default here) runs with AUTH=off, every call a
 * server-wide admin; `auth: true` needs keys, and `client` uses TEST_ADMIN_TOKEN.
 */
export async function createTestApp(kind: DriverKind, options: { auth?: boolean } = {}): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  await ensureDefaultWorkspace(database.db);
  const auth = options.auth ?? false;
  const app = createApp({ db: database.db, logger: createLogger("silent"), auth: { enabled: auth, adminToken: TEST_ADMIN_TOKEN }, database: kind });
  const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
  // An empty string means "no key at all" (not even MODELREG_ACCESS_KEY).
  const clientWith = (accessKey?: string) =>
    createRegistryClient({ baseUrl: "http://in-process", transport, accessKey: accessKey ?? "" });
  return { client: clientWith(auth ? TEST_ADMIN_TOKEN : undefined), clientWith, database, close: () => database.close() };
}

