// When the database goes away, calls fail with Unavailable (safe to retry)
// and a message that says so, never Internal; when it comes back, the same
// server process recovers without a restart.
import { afterAll, expect, it } from "vitest";
import { Code, createRegistryClient, errorDetails } from "@modelreg/sdk";
import { createEmptyPostgres, databaseTarget, throughProxy } from "@modelreg/db/testing";
import { startServer, type ServerProcess } from "./support/server.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";
import { eventually } from "./support/until.js";

const run = process.env.DATABASE_URL ? it : it.skip;
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
let proxy: TcpProxy | undefined;
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  await proxy?.close();
  await db?.drop();
});

run(`answers Unavailable while PostgreSQL is unreachable, then recovers${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
  db = await createEmptyPostgres();
  proxy = await startTcpProxy(databaseTarget(db.url));
  server = await startServer({ databaseUrl: throughProxy(db.url, proxy.port), env: { DATABASE_POOL_SIZE: "2" } });
  const client = createRegistryClient({ baseUrl: server.url });
  const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "flaky" })).model!.name;

  await proxy.cut();
  for (const call of [() => client.models.getModel({ name: parent }), () => client.versions.createVersion({ parent })]) {
    const e = await call().then(
      () => undefined,
      (err: unknown) => errorDetails(err),
    );
    expect(e?.code).toBe(Code.Unavailable);
    expect(e?.message).toMatch(/the database is unavailable; retry shortly/);
    expect(e?.reason).toBe("DATABASE_UNAVAILABLE");
  }

  await proxy.restore();
  // Answered again shortly (the driver waits at most 250 ms before it tries a new connection); until then, still Unavailable.
  const codes: (Code | "ok")[] = [];
  await eventually(
    () => client.models.getModel({ name: parent }).then(
      (r) => (r.model!.name === parent ? "ok" : r.model!.name),
      (err: unknown) => errorDetails(err).code,
    ),
    (c) => {
      codes.push(c as Code | "ok");
      return c === "ok";
    },
    "GetModel to be answered again",
  );
  expect(codes.filter((c) => c !== "ok" && c !== Code.Unavailable)).toEqual([]);
  expect((await client.versions.createVersion({ parent })).version!.version).toBe("1.0.0");
});
