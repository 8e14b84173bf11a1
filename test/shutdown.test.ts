// SIGTERM: in-flight calls finish, the process exits 0, nothing acknowledged is lost.
import { afterAll, expect, it } from "vitest";
import { Code, createRegistryClient, errorDetails } from "@modelreg/sdk";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { startServer, tempDir } from "./support/server.js";

const dir = tempDir();
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
afterAll(async () => {
  await db?.drop();
  dir.remove();
});

it(`finishes in-flight calls on SIGTERM and exits 0 (${process.env.DATABASE_URL ? "postgres" : "pglite"})`, async () => {
  db = process.env.DATABASE_URL ? await createEmptyPostgres() : undefined;
  const server = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
  const client = createRegistryClient({ baseUrl: server.url });
  const parent = (await client.models.createModel({ parent: "workspaces/default", modelId: "drain" })).model!.name;

  const calls = Array.from({ length: 64 }, () => client.versions.createVersion({ parent }));
  // Stop as soon as the first of them is answered: the rest are in flight.
  await Promise.race(calls);
  const stopped = server.stop("SIGTERM");
  const results = await Promise.allSettled(calls);
  const { code } = await stopped;
  expect(code).toBe(0);
  expect(server.output.some((l) => l.includes("shutting down"))).toBe(true);

  const ok = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ version?: { uid: string } }>).value.version!.uid);
  const failed = results.filter((r) => r.status === "rejected").map((r) => errorDetails((r as PromiseRejectedResult).reason));
  // A call either completed, or was refused before it started (Unavailable): never cut mid-way.
  for (const f of failed) expect([Code.Unavailable], f.message).toContain(f.code);
  expect(ok.length).toBeGreaterThan(1);

  const again = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
  try {
    const c2 = createRegistryClient({ baseUrl: again.url });
    const stored: string[] = [];
    for await (const v of c2.listAllVersions("drain")) stored.push(v.uid);
    expect(stored.sort()).toEqual([...ok].sort());
  } finally {
    await again.stop();
  }
});
