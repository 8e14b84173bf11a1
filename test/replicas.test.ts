// Two server processes on one PostgreSQL database: they share keys and data,
// and a key revoked through one stops working on the other within the 5 s
// key cache.
import { Code, ConnectError, createRegistryClient, Role } from "@modelreg/sdk";
import { afterAll, expect, it } from "vitest";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { startServer, type ServerProcess } from "./support/server.js";

const run = process.env.DATABASE_URL ? it : it.skip;
const servers: ServerProcess[] = [];
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
afterAll(async () => {
  for (const s of servers) await s.stop();
  await db?.drop();
});

run(`share keys and data, and see a revocation within 5 s${process.env.DATABASE_URL ? "" : " (skipped: set DATABASE_URL to a PostgreSQL server to run)"}`, async () => {
  db = await createEmptyPostgres();
  // Both start at once: migrations and the default workspace must not collide.
  servers.push(...(await Promise.all([startServer({ databaseUrl: db.url }), startServer({ databaseUrl: db.url })])));
  const [a, b] = servers as [ServerProcess, ServerProcess];
  const adminA = createRegistryClient({ baseUrl: a.url });
  const key = await adminA.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: "roamer", role: Role.EDITOR } });
  const onB = createRegistryClient({ baseUrl: b.url, accessKey: key.token });
  const { model } = await onB.models.createModel({ parent: "workspaces/default", modelId: "shared" });
  expect((await adminA.models.getModel({ name: model!.name })).model!.uid).toBe(model!.uid);

  await adminA.workspaces.revokeAccessKey({ name: key.accessKey!.name });
  const revokedAt = Date.now();
  // Call B until it refuses the key. What must hold is when the accepted
  // calls were sent, not how long the answers took: no call sent 5 s after
  // the revocation may be accepted (100 ms for timer slack). A slow machine
  // only makes the server see a call later, so it cannot make this pass
  // wrongly.
  let code: Code | "ok" = "ok";
  let lastAcceptedSentAt = revokedAt;
  for (let i = 0; i < 1000 && code === "ok"; i++) {
    const sentAt = Date.now();
    code = await onB.models.getModel({ name: model!.name }).then(
      () => "ok" as const,
      (e: unknown) => ConnectError.from(e).code,
    );
    if (code === "ok") {
      lastAcceptedSentAt = sentAt;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  expect(code).toBe(Code.Unauthenticated);
  expect(lastAcceptedSentAt - revokedAt).toBeLessThan(5100);
});
