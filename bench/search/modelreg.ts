// The modelreg side of the search bench and its probes (index.ts,
// profile-server.ts, tail.ts): the real server process on a database, and
// an SDK client of it on the SDK's own transport (Connect, HTTP/2, its
// compression choice) over one HTTP/2 session the caller closes.
import { fileURLToPath } from "node:url";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { createRegistryClient, createTransport, type RegistryClient } from "@modelreg/sdk";
import { type ServerProcess, startModelregServer } from "../lib/processes.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CALL_TIMEOUT_MS = 120_000;

export interface StartOptions {
  name: string;
  dbUrl: string;
  /** The server-wide admin key the server is given and the client uses. */
  adminKey: string;
  /** Node arguments before the bundle's (profilers, preloads). */
  nodeArgs?: string[];
  /** Default "info"; "debug" logs every successful read too. */
  logLevel?: string;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
}

/** The bundle npm start runs, on `dbUrl`, without rate limits. */
export function startModelreg(o: StartOptions): Promise<ServerProcess> {
  return startModelregServer({
    name: o.name,
    nodeArgs: o.nodeArgs,
    cwd: REPO_ROOT,
    env: { DATABASE_URL: o.dbUrl, PORT: "0", LOG_LEVEL: o.logLevel ?? "info", MODELREG_ADMIN_KEY: o.adminKey, RATE_LIMIT_PER_KEY: "1000000", RATE_LIMIT_BURST: "1000000", ...o.env },
    timeoutMs: CALL_TIMEOUT_MS,
    onLine: o.onLine,
  });
}

/** An SDK client of `server`; close() drops its HTTP/2 session. */
export function sdkClient(server: ServerProcess, accessKey: string): { api: RegistryClient; close(): void } {
  const sessionManager = new Http2SessionManager(server.url);
  const transport = createTransport({ baseUrl: server.url, timeoutMs: CALL_TIMEOUT_MS }, false, sessionManager);
  return { api: createRegistryClient({ baseUrl: server.url, transport, accessKey }), close: () => sessionManager.abort() };
}
