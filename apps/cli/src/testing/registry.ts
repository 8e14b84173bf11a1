// The real modelreg server's routes over an in-memory PGlite database, for
// the CLI's tests: every call goes through the real Connect protocol, the
// real interceptors (auth, roles from the contract, scoping, audit) and the
// real domain, without a network. `calls` records what the CLI sent.
import { randomBytes } from "node:crypto";
import { createRouterTransport, type Interceptor, type Transport } from "@connectrpc/connect";
import { accessKeys, workspaces } from "@modelreg/db";
import { createTestDatabase, type TestDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type Role } from "@modelreg/sdk";
import { createApp, createLogger, ensureDefaultWorkspace } from "@modelreg/server";
import { createTestStore, TEST_SIGNING_KEYS } from "@modelreg/server/testing";
import { eq, sql } from "drizzle-orm";

/** "Now" for the CLI under test (relative --expires values are computed from it). */
export const START_MS = Math.floor(Date.now() / 1000) * 1000; // whole seconds, as a Timestamp carries --expires

export interface Registry {
  transport: Transport;
  /** Every call, in order: method name, request (as received) and its Authorization header, if any. */
  calls: { method: string; request: unknown; authorization?: string }[];
  /** The token of the server-wide admin key. */
  adminToken: string;
  /** Creates an access key in `workspace` (default "default") and returns its token. */
  addKey(key: { user: string; role: Role; workspace?: string; revoked?: boolean }): Promise<string>;
  /** Empties the database down to the given workspaces, and forgets recorded calls. */
  reset(workspaceIds?: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function createRegistry(options: { auth?: boolean; workspaces?: string[] } = {}): Promise<Registry> {
  const adminToken = `cli-test-admin.${randomBytes(32).toString("base64url")}`;
  const db: TestDatabase = await createTestDatabase("pglite");
  const blobs = createTestStore();
  const app = createApp({
    db: db.db,
    logger: createLogger("silent"),
    auth: { enabled: options.auth ?? false, adminToken },
    database: "pglite",
    store: blobs.store,
    signingKeys: TEST_SIGNING_KEYS,
  });
  const calls: Registry["calls"] = [];
  const record: Interceptor = (next) => (req) => {
    calls.push({ method: req.method.name, request: req.stream ? undefined : req.message, authorization: req.header.get("authorization") ?? undefined });
    return next(req);
  };
  const transport = createRouterTransport(app.routes, { router: { interceptors: [record, ...app.interceptors] } });
  const admin = createRegistryClient({ baseUrl: "http://in-process", transport, accessKey: adminToken });

  const reset = async (ids = options.workspaces ?? ["default"]) => {
    await db.db.execute(sql`TRUNCATE audit_events, access_keys, versions, models, workspaces CASCADE`);
    await ensureDefaultWorkspace(db.db);
    for (const id of ids) if (id !== "default") await db.db.insert(workspaces).values({ name: id });
    if (!ids.includes("default")) await db.db.delete(workspaces).where(eq(workspaces.name, "default"));
    calls.length = 0;
  };
  await reset();

  return {
    transport,
    calls,
    adminToken,
    async addKey({ user, role, workspace = "default", revoked }) {
      const made = await admin.workspaces.createAccessKey({ parent: `workspaces/${workspace}`, accessKey: { user, role } });
      if (revoked) await db.db.update(accessKeys).set({ revokeTime: sql`now()` }).where(eq(accessKeys.keyId, made.accessKey!.keyId));
      calls.length = 0;
      return made.token;
    },
    reset,
    close: async () => {
      await db.close();
      blobs.remove();
    },
  };
}
