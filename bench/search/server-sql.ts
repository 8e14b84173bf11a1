// The raw-SQL baseline of `bench search` that runs exactly what modelreg
// runs: the server's own statements (text, parameters, prepared or not,
// rows as arrays or objects), recorded call by call and replayed through
// postgres.js on one connection with no server in between.
//
// Recording: the server's handlers (createApp: the same interceptors,
// services and domain as the bundle, on an in-process Connect transport)
// over a Drizzle database built as @modelreg/db builds it (postgres.js,
// detachRows preparing statements of up to PREPARE_UP_TO parameters,
// Drizzle's type parsers), with a layer under detachRows that notes every
// `unsafe()` call made on behalf of the call being recorded
// (AsyncLocalStorage, so background work of the app is not counted).
// Replay: the noted statements in order, with the same parameters and
// `prepare` flag, on a postgres.js client given Drizzle's parsers too.
// So the replay answers what PostgreSQL and the driver cost for the
// server's SQL, and modelreg / replay is what the server adds on top.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Database } from "@modelreg/db";
import type { RegistryClient } from "@modelreg/sdk";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import { detachRows, PREPARE_UP_TO } from "../../packages/db/src/detached-rows.js";
import * as schema from "../../packages/db/src/schema.js";
import type { Call, CaseKind } from "./cases.js";
import { inProcessServer } from "./in-process.js";

/** One statement the server ran, as postgres.js was asked to run it. */
export interface Statement {
  text: string;
  params: unknown[];
  /** A named prepared statement (detachRows: 1 to PREPARE_UP_TO parameters). */
  prepare: boolean;
  /** Rows as arrays (Drizzle's select builder) rather than objects (db.execute). */
  values: boolean;
}

export interface ServerSql {
  /** The statements modelreg's handler runs for `call` of `kind`. */
  record(kind: CaseKind, call: Call): Promise<Statement[]>;
  close(): Promise<void>;
}

type UnsafeFn = (text: string, params?: unknown[], opts?: { prepare?: boolean }) => { values(): unknown };

/** `client` with every unsafe() call made inside `als.run(list, ...)` pushed onto that list. */
function recording(client: Sql, als: AsyncLocalStorage<Statement[]>): Sql {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "unsafe") return value;
      return (text: string, params?: unknown[], opts?: { prepare?: boolean }) => {
        const q = (value as UnsafeFn).call(target, text, params, opts);
        const into = als.getStore();
        if (!into) return q;
        const s: Statement = { text, params: params ?? [], prepare: opts?.prepare === true, values: false };
        into.push(s);
        const values = q.values.bind(q);
        q.values = () => {
          s.values = true;
          return values();
        };
        return q;
      };
    },
  });
}

/** A recorder of the server's statements on `url` (its own small pool). */
export function createServerSql(url: string): ServerSql {
  const als = new AsyncLocalStorage<Statement[]>();
  const client = postgres(url, { max: 2, onnotice: () => {}, connection: { application_name: "bench-search-record" } });
  const db = drizzle(detachRows(recording(client, als), { prepareUpTo: PREPARE_UP_TO }), { schema }) as unknown as Database;
  const server = inProcessServer(db);
  const api: RegistryClient = server.api;
  let closed = false;
  return {
    async record(kind, call) {
      const list: Statement[] = [];
      await als.run(list, () => kind.modelreg(api, call));
      return list;
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await client.end({ timeout: 1 });
    },
  };
}

/** A postgres.js client (one connection) that parses rows as the server's Drizzle client does. */
export function replayClient(url: string, applicationName: string): Sql {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: applicationName } });
  drizzle(sql); // sets Drizzle's parsers and serializers (dates as text) on the client, as the server's
  return sql;
}

/** Runs `statements` in order on `sql`; resolves with each one's rows. */
export async function replay(sql: Sql, statements: Statement[]): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const s of statements) {
    const q = sql.unsafe(s.text, s.params as never[], { prepare: s.prepare });
    out.push(s.values ? await q.values() : await q);
  }
  return out;
}

/** The resource names a replayed list page answers (rows with model_name and version), up to `limit`. */
export function replayedNames(rows: unknown[][], workspace: string, limit: number): string[] {
  const names: string[] = [];
  for (const r of rows.flat())
    if (r && typeof r === "object" && !Array.isArray(r) && "model_name" in r && "version" in r)
      names.push(`workspaces/${workspace}/models/${(r as { model_name: string }).model_name}/versions/${(r as { version: string }).version}`);
  return names.slice(0, limit);
}
