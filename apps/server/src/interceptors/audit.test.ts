// Whose audit log a call lands in, on both databases: a call refused before
// it was authenticated leaves no row in any workspace's log (it names a
// workspace it has nothing to do with, or none that exists) but a line in
// the server's log; a key of one workspace probing another leaves a row
// there without its user's name.
import { Writable } from "node:stream";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { createTestDatabase, describeEachDatabase, type DriverKind, type TestDatabase } from "@modelreg/db/testing";
import { Role } from "@modelreg/proto";
import { type AuditEvent, createRegistryClient, type RegistryClient } from "@modelreg/sdk";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../app.js";
import { ensureDefaultWorkspace } from "../domain/workspaces/index.js";
import { TEST_ADMIN_TOKEN } from "../testing/test-app.js";
import { createTestStore, TEST_SIGNING_KEYS } from "../testing/test-store.js";

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  return p.then(
    () => "ok" as const,
    (e: unknown) => ConnectError.from(e).code,
  );
}

describeEachDatabase("audit of refused calls", (kind: DriverKind) => {
  let db: TestDatabase;
  let removeStore: () => void;
  const lines: Record<string, unknown>[] = [];
  let clientWith: (token: string) => RegistryClient;
  let admin: RegistryClient;
  let alice: { keyId: string; token: string; secret: string };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await ensureDefaultWorkspace(db.db);
    const stream = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const { store, remove } = createTestStore();
    removeStore = remove;
    const app = createApp({ db: db.db, logger: pino({ level: "info" }, stream), auth: { enabled: true, adminToken: TEST_ADMIN_TOKEN }, store, signingKeys: TEST_SIGNING_KEYS });
    const transport = createRouterTransport(app.routes, { router: { interceptors: app.interceptors } });
    clientWith = (token) => createRegistryClient({ baseUrl: "http://in-process", transport, accessKey: token });
    admin = clientWith(TEST_ADMIN_TOKEN);
    for (const ws of ["team-a", "team-b"]) await admin.workspaces.createWorkspace({ workspaceId: ws, workspace: {} });
    const made = await admin.workspaces.createAccessKey({ parent: "workspaces/team-a", accessKey: { user: "alice", role: Role.EDITOR } });
    alice = { keyId: made.accessKey!.keyId, token: made.token, secret: made.secret };
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    removeStore?.();
  });

  const everyEvent = async () => {
    const events: AuditEvent[] = [];
    for await (const e of admin.listAllAuditEvents({ parent: "workspaces/-" })) events.push(e);
    return events;
  };

  it("writes no row for a call refused before authentication, into a real workspace or one that does not exist, and logs it instead", async () => {
    const wrong = `${alice.keyId}.${"w".repeat(43)}`;
    const calls: [id: string, token: string, parent: string][] = [
      ["nobody-none", "", "workspaces/team-b"],
      ["nobody-ghost", "", "workspaces/ghost"],
      ["nobody-malformed", "not-a-key", "workspaces/team-b"],
      ["nobody-unknown", `AKAAAAAAAAAAAAAAAA.${"u".repeat(43)}`, "workspaces/team-b"],
      ["nobody-wrong", wrong, "workspaces/team-b"],
    ];
    for (const [id, token, parent] of calls)
      expect(await codeOf(clientWith(token).models.createModel({ parent, modelId: "planted" }, { headers: { "x-request-id": id } })), id).toBe(Code.Unauthenticated);

    const events = await everyEvent();
    expect(events.filter((e) => e.requestId.startsWith("nobody-"))).toEqual([]);
    const refused = lines.filter((l) => l.msg === "refused before authentication");
    for (const [id, , parent] of calls)
      expect(refused.find((l) => l.requestId === id), id).toMatchObject({ rpc: "modelreg.v1.ModelService/CreateModel", resource: parent, code: "unauthenticated", level: 40 });
    expect(refused.find((l) => l.requestId === "nobody-wrong")!.accessKeyId).toBe(alice.keyId);
    expect(JSON.stringify(lines)).not.toContain("w".repeat(43));
  });

  it("keeps a foreign key's refused probes in the probed workspace's log without its user's name", async () => {
    const c = clientWith(alice.token);
    expect(await codeOf(c.models.createModel({ parent: "workspaces/team-b", modelId: "probe" }, { headers: { "x-request-id": "probe-1" } }))).toBe(Code.NotFound);
    expect(await codeOf(c.models.createModel({ parent: "workspaces/team-a", modelId: "own" }, { headers: { "x-request-id": "own-1" } }))).toBe("ok");

    const probed = [];
    for await (const e of admin.listAllAuditEvents({ parent: "workspaces/team-b" })) probed.push(e);
    expect(probed.filter((e) => e.requestId === "probe-1")).toEqual([
      expect.objectContaining({ workspace: "team-b", user: "", accessKeyId: alice.keyId, code: "not_found", method: "modelreg.v1.ModelService/CreateModel" }),
    ]);
    expect(probed.map((e) => e.user)).not.toContain("alice");
    const own = [];
    for await (const e of admin.listAllAuditEvents({ parent: "workspaces/team-a", filter: `request_id = "own-1"` })) own.push(e);
    expect(own).toEqual([expect.objectContaining({ workspace: "team-a", user: "alice", accessKeyId: alice.keyId, code: "ok" })]);
  });
});
