// The real router over a fresh database and a temp-dir blob store, driven
// in-process through the SDK (createTestApp), or served on a real loopback
// port for the plain-HTTP byte paths (startTestServer). The same suites run
// on PGlite and, when DATABASE_URL is set, PostgreSQL.
import { createRouterTransport } from "@connectrpc/connect";
import { createTestDatabase, type DriverKind, type TestDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { type App, createApp } from "../app.js";
import { ensureDefaultWorkspace } from "../domain/workspaces/index.js";
import { serve } from "../http/serve.js";
import { createLogger, type Logger } from "../logger.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { createTestS3Store, createTestStore, TEST_SIGNING_KEYS } from "./test-store.js";

export interface TestApp {
  client: RegistryClient;
  /** A client with this access key ("" = none at all). */
  clientWith(accessKey?: string): RegistryClient;
  database: TestDatabase;
  app: App;
  store: BlobStore;
  /** The blob store's directory ("" for S3). */
  storeRoot: string;
  close(): Promise<void>;
}

/** A server-wide admin token for in-process tests with auth on. */
export const TEST_ADMIN_TOKEN = "test-admin.0123456789abcdefghijklmnopqrstuvwxyzABCD";

export interface TestAppOptions {
  /** false (the default here): AUTH=off, every call a server-wide admin; true: keys needed, `client` uses TEST_ADMIN_TOKEN. */
  auth?: boolean;
  uploadsPerKey?: number;
  maxChunkBytes?: number;
  /** Blob store: files in a temp directory (default), or S3 on a loopback S3-protocol server. */
  store?: "fs" | "s3";
  /** The job engine's lease (default 30 s). */
  jobLeaseMs?: number;
  /** false: the job engine is not started (call app.jobs.start()); default true. */
  startJobs?: boolean;
  /** A task worker's lease (default 30 s). */
  taskLeaseMs?: number;
  /** How often a waiting claim looks again without a wake-up (default 200 ms; long, to prove a wake-up does it). */
  taskClaimRecheckMs?: number;
  /** Quiet time before a WatchTask keep-alive (default 15 s). */
  taskKeepAliveMs?: number;
  /** Where the server logs; default: silent (or MODELREG_TEST_LOG's level). */
  logger?: Logger;
}

async function build(kind: DriverKind, options: TestAppOptions) {
  const database = await createTestDatabase(kind);
  await ensureDefaultWorkspace(database.db);
  const auth = options.auth ?? false;
  const blobs = options.store === "s3" ? await createTestS3Store() : createTestStore();
  const app = createApp({
    db: database.db,
    // MODELREG_TEST_LOG=debug shows the server's logs while debugging a test.
    logger: options.logger ?? createLogger(process.env.MODELREG_TEST_LOG ?? "silent"),
    auth: { enabled: auth, adminToken: TEST_ADMIN_TOKEN },
    database: kind,
    store: blobs.store,
    signingKeys: TEST_SIGNING_KEYS,
    uploadsPerKey: options.uploadsPerKey,
    maxChunkBytes: options.maxChunkBytes,
    jobs: { pollMs: 50, backoffMs: 50, progressMs: 200, leaseMs: options.jobLeaseMs },
    listen: database.listen,
    databaseStats: database.stats,
    tasks: { watchKeepAliveMs: options.taskKeepAliveMs, leaseMs: options.taskLeaseMs, sweepMs: 50, claimRecheckMs: options.taskClaimRecheckMs ?? 200 },
  });
  if (options.startJobs !== false) {
    app.jobs.start();
    app.taskLeases.start();
  }
  const close = async () => {
    await app.jobs.stop();
    await app.taskLeases.stop();
    await app.md5.stop();
    await app.wakeups.close();
    await database.close();
    await blobs.remove();
  };
  return { database, app, blobs, auth, close };
}

export async function createTestApp(kind: DriverKind, options: TestAppOptions = {}): Promise<TestApp> {
  const { database, app, blobs, auth, close } = await build(kind, options);
  const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
  // An empty string means "no key at all" (not even MODELREG_ACCESS_KEY).
  const clientWith = (accessKey?: string) => createRegistryClient({ baseUrl: "http://in-process", transport, accessKey: accessKey ?? "" });
  return { client: clientWith(auth ? TEST_ADMIN_TOKEN : undefined), clientWith, database, app, store: blobs.store, storeRoot: blobs.root, close };
}

export interface TestServer extends Omit<TestApp, "clientWith"> {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** A client of this server with this access key ("" = none), over `protocol` (default connect). */
  clientWith(accessKey?: string, protocol?: "connect" | "grpc" | "grpc-web"): RegistryClient;
}

/** The app served on 127.0.0.1, port 0: real HTTP for the byte paths and the RPCs. */
export async function startTestServer(kind: DriverKind, options: TestAppOptions = {}): Promise<TestServer> {
  const { database, app, blobs, auth, close } = await build(kind, options);
  const server = await serve(app.handler, { port: 0, host: "127.0.0.1" });
  const clientWith = (accessKey?: string, protocol?: "connect" | "grpc" | "grpc-web") =>
    createRegistryClient({ baseUrl: server.url, accessKey: accessKey ?? "", protocol });
  return {
    url: server.url,
    client: clientWith(auth ? TEST_ADMIN_TOKEN : undefined),
    clientWith,
    database,
    app,
    store: blobs.store,
    storeRoot: blobs.root,
    async close() {
      await server.close(1000);
      await close();
    },
  };
}
