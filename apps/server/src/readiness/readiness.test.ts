// Readiness over a real database: ready when migrated, not ready (with the
// reason) when the schema is behind this build, announced once per turn
// to the gRPC health service and /readyz; "shutting down" once health is
// shut down. The outage itself (PostgreSQL cut) is test/readiness.test.ts.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, ServingStatus } from "../grpc/health.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

describeEachDatabase("readiness", (kind) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(kind);
  }, 60_000);
  afterAll(async () => t?.close());

  const readyz = async () => {
    const res = await fetch(`${t.url}/readyz`);
    return { status: res.status, body: await res.json() };
  };
  const check = async (service: string) => (await createClient(Health, createGrpcTransport({ baseUrl: t.url })).check({ service })).status;

  it("follows the database: not ready while its schema is behind this server, ready again after", async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: "ready" } });
    const turns: boolean[] = [];
    t.app.readiness.onChange((s) => turns.push(s.ready));

    const row = (await latestMigration(t))!;
    await t.database.db.execute(sql`DELETE FROM drizzle.__drizzle_migrations WHERE id = ${row.id}`);
    // Checks a moment apart answer from the same check; this one is fresh.
    await expectEventually(async () => (await readyz()).status === 503);
    expect((await readyz()).body).toEqual({ status: "not ready", reason: "the database schema is older than this server: its migrations have not all been applied" });
    expect(await check("")).toBe(ServingStatus.NOT_SERVING);
    expect(await check("modelreg.v1.ModelService")).toBe(ServingStatus.NOT_SERVING);
    expect(t.app.readiness.current()).toMatchObject({ ready: false });

    await t.database.db.execute(sql`INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES (${row.id}, ${row.hash}, ${row.created_at}::bigint)`);
    await expectEventually(async () => (await readyz()).status === 200);
    expect(await check("")).toBe(ServingStatus.SERVING);
    expect(turns).toEqual([false, true]);
  });

  it("says the server is shutting down once health is shut down, and checks no more", async () => {
    t.app.health.shutdown();
    expect(await readyz()).toEqual({ status: 503, body: { status: "not ready", reason: "the server is shutting down" } });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});

async function latestMigration(t: TestServer) {
  const r = await t.database.db.execute(sql`SELECT id, hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1`);
  return (Array.isArray(r) ? r : ((r as { rows: unknown[] }).rows ?? []))[0] as { id: number; hash: string; created_at: string } | undefined;
}

/** Polls until `condition` holds; the bound only catches a hang. */
async function expectEventually(condition: () => Promise<boolean>, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition never held");
    await new Promise((r) => setTimeout(r, 50));
  }
}
