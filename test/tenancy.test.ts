// Tenancy over the network: keys per workspace, isolation, revocation,
// expiry, the audit log of every mutating call, and secrets that never show
// up in logs, errors or the audit table.
import { Code, ConnectError, createRegistryClient, errorDetails, Role, type RegistryClient } from "@modelreg/sdk";
import { createHash } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { startServer, tempDir, type ServerProcess } from "./support/server.js";
import { until } from "./support/until.js";

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  return p.then(
    () => "ok" as const,
    (e: unknown) => ConnectError.from(e).code,
  );
}

describeEachDatabase("tenancy", (backend) => {
  let server: ServerProcess;
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  const dir = tempDir();
  let admin: RegistryClient;
  const secrets: string[] = [];
  const client = (token: string, workspace = "team-a") => createRegistryClient({ baseUrl: server.url, accessKey: token, workspace });

  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url, dataDir: dir.path });
    admin = createRegistryClient({ baseUrl: server.url });
    for (const ws of ["team-a", "team-b"]) await admin.workspaces.createWorkspace({ workspaceId: ws, workspace: { description: ws } });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    dir.remove();
  });

  const newKey = async (workspace: string, user: string, role: Role, expireTime?: Date) => {
    const res = await admin.workspaces.createAccessKey({
      parent: `workspaces/${workspace}`,
      accessKey: { user, role, ...(expireTime ? { expireTime: { seconds: BigInt(Math.floor(expireTime.getTime() / 1000)), nanos: 0 } } : {}) },
    });
    secrets.push(res.secret);
    expect(res.token).toBe(`${res.accessKey!.keyId}.${res.secret}`);
    return res;
  };

  it("keeps each workspace's models to its own keys", async () => {
    const a = (await newKey("team-a", "alice", Role.EDITOR)).token;
    const b = (await newKey("team-b", "bob", Role.ADMIN)).token;
    const alice = client(a);
    const bob = client(b, "team-b");
    const model = (await alice.models.createModel({ parent: "workspaces/team-a", modelId: "secret-sauce" })).model!;
    const version = (await alice.versions.createVersion({ parent: model.name })).version!;

    // Bob sees nothing of team-a: every way of asking is NotFound, and lists are empty of it.
    expect(await codeOf(bob.models.getModel({ name: model.name }))).toBe(Code.NotFound);
    expect(await codeOf(bob.versions.getVersion({ ref: { case: "uid", value: version.uid } }))).toBe(Code.NotFound);
    expect(await codeOf(bob.versions.getVersion({ ref: { case: "name", value: version.name } }))).toBe(Code.NotFound);
    expect(await codeOf(bob.models.listModels({ parent: "workspaces/team-a" }))).toBe(Code.NotFound);
    expect(await codeOf(bob.models.createModel({ parent: "workspaces/team-a", modelId: "plant" }))).toBe(Code.NotFound);
    expect(await codeOf(bob.models.deleteModel({ name: model.name, force: true }))).toBe(Code.NotFound);
    // ...exactly as for a workspace that does not exist at all.
    const ghost = errorDetails(await bob.models.listModels({ parent: "workspaces/ghost" }).catch((e) => e));
    const hidden = errorDetails(await bob.models.listModels({ parent: "workspaces/team-a" }).catch((e) => e));
    expect(hidden.message.replace("team-a", "X")).toBe(ghost.message.replace("ghost", "X"));
    expect((await bob.workspaces.listWorkspaces({})).workspaces.map((w) => w.name)).toEqual(["workspaces/team-b"]);
    expect((await alice.workspaces.getServerInfo({})).user).toBe("alice");
  });

  it("refuses missing, malformed, unknown, revoked and expired keys with Unauthenticated", async () => {
    const name = "workspaces/team-a";
    const viewer = await newKey("team-a", "victor", Role.VIEWER);
    const ok = client(viewer.token);
    expect(await codeOf(ok.models.listModels({ parent: name }))).toBe("ok");

    expect(await codeOf(client("").models.listModels({ parent: name }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client("not-a-key").models.listModels({ parent: name }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client(`AKAAAAAAAAAAAAAAAA.${"x".repeat(43)}`).models.listModels({ parent: name }))).toBe(Code.Unauthenticated);
    expect(await codeOf(client(`${viewer.accessKey!.keyId}.${"y".repeat(43)}`).models.listModels({ parent: name }))).toBe(Code.Unauthenticated);

    await admin.workspaces.revokeAccessKey({ name: viewer.accessKey!.name });
    // Revocation is immediate on the server that revoked (and within 5 s on others).
    const revoked = errorDetails(await ok.models.listModels({ parent: name }).catch((e) => e));
    expect(revoked.code).toBe(Code.Unauthenticated);
    expect(revoked.message).toMatch(/was revoked/);

    const expiry = Date.now() + 3000;
    const soon = await newKey("team-a", "temp", Role.VIEWER, new Date(expiry));
    const before = await codeOf(client(soon.token).models.listModels({ parent: name }));
    // An answer back before the expiry was decided before it: it must be ok (a machine this slow asserts nothing here).
    if (Date.now() < expiry) expect(before).toBe("ok");
    // Wait for the clock to pass the expiry (a condition, checked every 50 ms).
    while (Date.now() <= expiry + 50) await new Promise((r) => setTimeout(r, 50));
    const expired = errorDetails(await client(soon.token).models.listModels({ parent: name }).catch((e) => e));
    expect(expired.code).toBe(Code.Unauthenticated);
    expect(expired.message).toMatch(/expired at/);

    // Rotation: the new token works, the old one stops.
    const rot = await newKey("team-a", "rotor", Role.VIEWER);
    const rotated = await admin.workspaces.rotateAccessKey({ name: rot.accessKey!.name });
    secrets.push(rotated.secret);
    expect(rotated.accessKey!.rotatedFrom).toBe(rot.accessKey!.keyId);
    expect(await codeOf(client(rotated.token).models.listModels({ parent: name }))).toBe("ok");
    expect(await codeOf(client(rot.token).models.listModels({ parent: name }))).toBe(Code.Unauthenticated);
  });

  it("connects a training job from its one JSON parameter string and records the algorithm on versions it saves", async () => {
    const key = await newKey("team-a", "trainer", Role.EDITOR);
    const params = JSON.stringify({
      _alg_model_params: {
        endPoint: server.url,
        tenant: "team-a",
        userId: "trainer",
        accessId: key.accessKey!.keyId,
        accessKey: key.secret,
        algCode: "fraud-xgb",
        algVersion: "2.3.1",
      },
    });
    const job = createRegistryClient.fromParams(params);
    expect(job.workspace).toBe("team-a");
    const { model } = await job.models.createModel({ parent: "workspaces/team-a", modelId: "trained" });
    const { version } = await job.versions.createVersion({ parent: model!.name, version: { description: "epoch 10" } });
    expect(version!.lineage).toMatchObject({ trainingAlgorithmCode: "fraud-xgb", trainingAlgorithmVersion: "2.3.1" });
    const read = await admin.versions.getVersion({ ref: { case: "uid", value: version!.uid } });
    expect(read.version!.lineage).toMatchObject({ trainingAlgorithmCode: "fraud-xgb", trainingAlgorithmVersion: "2.3.1" });
    // With no `version` in the request at all (the server numbers it), too.
    const bare = await job.versions.createVersion({ parent: model!.name });
    expect(bare.version!.lineage).toMatchObject({ trainingAlgorithmCode: "fraud-xgb", trainingAlgorithmVersion: "2.3.1" });
    // Other lineage fields the call sets are kept beside them.
    const withData = await job.versions.createVersion({ parent: model!.name, version: { lineage: { dataVersion: "2026-10" } } });
    expect(withData.version!.lineage).toMatchObject({ dataVersion: "2026-10", trainingAlgorithmCode: "fraud-xgb", trainingAlgorithmVersion: "2.3.1" });
    // An explicit lineage wins.
    const own = await job.versions.createVersion({ parent: model!.name, version: { lineage: { trainingAlgorithmCode: "hand-made", trainingAlgorithmVersion: "0.1" } } });
    expect(own.version!.lineage!.trainingAlgorithmCode).toBe("hand-made");
    expect(() => createRegistryClient.fromParams('{"_alg_model_params": {}}')).toThrow(/"_alg_model_params.endPoint" is required/);
    expect(() => createRegistryClient.fromParams("{nope")).toThrow(/not valid JSON/);
  });

  it("names the role needed when a key's role is too small", async () => {
    const viewer = client((await newKey("team-a", "reader", Role.VIEWER)).token);
    const e = errorDetails(await viewer.models.createModel({ parent: "workspaces/team-a", modelId: "nope" }).catch((x) => x));
    expect(e.code).toBe(Code.PermissionDenied);
    expect(e.message).toMatch(/needs the editor role or higher/);
    expect(e.metadata.required_role).toBe("editor");
  });

  it("audits every mutating call with who, key, workspace, method, resource, code and request id", async () => {
    const editor = await newKey("team-a", "auditee", Role.EDITOR);
    const c = client(editor.token);
    const calls: { id: string; method: string; code: string; run: () => Promise<unknown> }[] = [
      { id: "audit-1", method: "modelreg.v1.ModelService/CreateModel", code: "ok", run: () => c.models.createModel({ parent: "workspaces/team-a", modelId: "audited" }, { headers: { "x-request-id": "audit-1" } }) },
      { id: "audit-2", method: "modelreg.v1.VersionService/CreateVersion", code: "ok", run: () => c.versions.createVersion({ parent: "workspaces/team-a/models/audited" }, { headers: { "x-request-id": "audit-2" } }) },
      { id: "audit-3", method: "modelreg.v1.ModelService/UpdateModel", code: "ok", run: () => c.models.updateModel({ model: { name: "workspaces/team-a/models/audited", description: "d" }, updateMask: { paths: ["description"] } }, { headers: { "x-request-id": "audit-3" } }) },
      { id: "audit-4", method: "modelreg.v1.ModelService/DeleteModel", code: "permission_denied", run: () => c.models.deleteModel({ name: "workspaces/team-a/models/audited", force: true }, { headers: { "x-request-id": "audit-4" } }) },
      { id: "audit-5", method: "modelreg.v1.ModelService/CreateModel", code: "already_exists", run: () => c.models.createModel({ parent: "workspaces/team-a", modelId: "audited" }, { headers: { "x-request-id": "audit-5" } }) },
    ];
    for (const call of calls) await call.run().catch(() => {});
    // A read is not audited.
    await c.models.getModel({ name: "workspaces/team-a/models/audited" }, { headers: { "x-request-id": "audit-read" } });

    const events = [];
    for await (const e of admin.listAllAuditEvents({ parent: "workspaces/team-a", filter: `user = "auditee"` })) events.push(e);
    const byId = new Map(events.map((e) => [e.requestId, e]));
    for (const call of calls) {
      expect(byId.get(call.id), call.id).toMatchObject({
        method: call.method,
        code: call.code,
        user: "auditee",
        accessKeyId: editor.accessKey!.keyId,
        workspace: "team-a",
      });
    }
    expect(byId.get("audit-1")!.resource).toBe("workspaces/team-a");
    expect(byId.get("audit-3")!.resource).toBe("workspaces/team-a/models/audited");
    expect(byId.has("audit-read")).toBe(false);
    // Exactly one row per call: the in-transaction row and the fallback never both land.
    for (const call of calls) expect(events.filter((e) => e.requestId === call.id), call.id).toHaveLength(1);

    // Filtered and paged, newest first.
    const denied = await admin.workspaces.listAuditEvents({ parent: "workspaces/team-a", filter: `code = "permission_denied" AND user = "auditee"`, pageSize: 1 });
    expect(denied.auditEvents.map((e) => e.requestId)).toEqual(["audit-4"]);
    // Another workspace's admin cannot read it.
    const bob = client((await newKey("team-b", "bob2", Role.ADMIN)).token, "team-b");
    expect(await codeOf(bob.workspaces.listAuditEvents({ parent: "workspaces/team-a" }))).toBe(Code.NotFound);
  });

  it("never lets a secret into logs, errors or the audit table", async () => {
    const key = await newKey("team-a", "leaky", Role.VIEWER);
    // A wrong secret for a real key: the error must not echo what was sent.
    const wrong = `${key.accessKey!.keyId}.${"z".repeat(43)}`;
    const e = errorDetails(await client(wrong).models.listModels({ parent: "workspaces/team-a" }).catch((x) => x));
    expect(e.message).not.toContain("z".repeat(43));
    expect(secrets.length).toBeGreaterThan(3);
    // Signed URLs are bearer secrets too: moving a file's bytes over them must not log them.
    const editor = client((await newKey("team-a", "uploader", Role.EDITOR)).token);
    await editor.models.createModel({ parent: "workspaces/team-a", modelId: "signed" });
    const { version } = await editor.versions.createVersion({ parent: "workspaces/team-a/models/signed" });
    const data = Buffer.from("signed bytes");
    const staged = await editor.files.stageVersionFiles({
      name: version!.name,
      files: [{ path: "f.txt", sizeBytes: BigInt(data.length), sha256: createHash("sha256").update(data).digest("hex") }],
    });
    const uploadUrl = staged.files[0]!.upload!.uploadUrl;
    expect((await fetch(uploadUrl, { method: "PUT", body: data })).status).toBe(200);
    await editor.files.commitVersionFiles({ name: version!.name });
    const downloadUrl = (await editor.files.listVersionFiles({ version: { case: "name", value: version!.name } })).files[0]!.downloadUrl;
    expect(await (await fetch(downloadUrl)).text()).toBe("signed bytes");
    for (const url of [uploadUrl, downloadUrl]) secrets.push(new URL(url).searchParams.get("sig")!);
    // The byte routes log each request once its response is done, through
    // the server's buffered log (flushed every 50 ms): wait for both lines.
    const logged = () => server.output.join("\n");
    await until(() => logged().includes('"path":"/v1/uploads/') && logged().includes('"path":"/v1/blobs/'), "the access log lines of the upload and the download");
    const logs = logged();
    expect(logs).toContain('"path":"/v1/uploads/');
    for (const s of [...secrets, "z".repeat(43)]) {
      expect(logs).not.toContain(s);
      expect(e.message).not.toContain(s);
    }
    if (db) {
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      const rows = await sql`SELECT * FROM audit_events`;
      const dump = JSON.stringify(rows);
      for (const s of secrets) expect(dump).not.toContain(s);
      const keys = await sql`SELECT secret_hash FROM access_keys`;
      for (const s of secrets) expect(JSON.stringify(keys)).not.toContain(s);
      await sql.end();
    }
  });
});
