// The server's handlers in this process over a given database (no network,
// no auth, no job engine), with an SDK client on them: what the search
// bench's statement recorder and golden.ts call.
import { createRouterTransport } from "@connectrpc/connect";
import type { Database } from "@modelreg/db";
import { createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { type App, createApp } from "../../apps/server/src/app.js";
import { createLogger } from "../../apps/server/src/logger.js";
import { createTestStore, TEST_SIGNING_KEYS } from "../../apps/server/src/testing/test-store.js";

export interface InProcessServer {
  app: App;
  api: RegistryClient;
  /** Stops the app's background work and removes its blob store. */
  close(): Promise<void>;
}

export function inProcessServer(db: Database): InProcessServer {
  const blobs = createTestStore();
  const app = createApp({
    db,
    logger: createLogger("silent"),
    auth: { enabled: false },
    database: "postgres",
    store: blobs.store,
    signingKeys: TEST_SIGNING_KEYS,
    jobs: { concurrency: 0 },
  });
  const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
  const api = createRegistryClient({ baseUrl: "http://in-process", transport, accessKey: "" });
  return {
    app,
    api,
    async close() {
      await app.jobs.stop();
      await app.md5.stop();
      blobs.remove();
    },
  };
}
