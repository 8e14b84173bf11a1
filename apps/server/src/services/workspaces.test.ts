// Workspaces and keys through the real router: lifecycle rules the access
// matrix does not look at.
import { Code, ConnectError, Role } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "@modelreg/db/testing";
import { createTestApp, type TestApp } from "../testing/test-app.js";

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok" as const,
    (e: unknown) => ConnectError.from(e).code,
  );

describeEachDatabase("workspaces", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind, { auth: true });
  }, 60_000);
  afterAll(async () => t?.close());

  it("refuses to delete a workspace that holds models, and the default one", async () => {
    const ws = t.client.workspaces;
    await ws.createWorkspace({ workspaceId: "short-lived", workspace: { description: "temp" } });
    expect(await codeOf(ws.createWorkspace({ workspaceId: "short-lived" }))).toBe(Code.AlreadyExists);
    expect(await codeOf(ws.createWorkspace({ workspaceId: "Bad_Id" }))).toBe(Code.InvalidArgument);
    const key = await ws.createAccessKey({ parent: "workspaces/short-lived", accessKey: { user: "temp", role: Role.ADMIN } });
    await t.client.models.createModel({ parent: "workspaces/short-lived", modelId: "m" });
    const busy = await ws.deleteWorkspace({ name: "workspaces/short-lived" }).catch((e: unknown) => ConnectError.from(e));
    expect((busy as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((busy as ConnectError).rawMessage).toMatch(/still holds 1 model/);
    await t.client.models.deleteModel({ name: "workspaces/short-lived/models/m" });
    await ws.deleteWorkspace({ name: "workspaces/short-lived" });
    expect(await codeOf(ws.getWorkspace({ name: "workspaces/short-lived" }))).toBe(Code.NotFound);
    // Its keys went with it.
    expect(await codeOf(t.clientWith(key.token).workspaces.getServerInfo({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(ws.deleteWorkspace({ name: "workspaces/default" }))).toBe(Code.FailedPrecondition);
  });

  it("pages workspaces and keys", async () => {
    for (const id of ["pg-a", "pg-b", "pg-c"]) await t.client.workspaces.createWorkspace({ workspaceId: id });
    const first = await t.client.workspaces.listWorkspaces({ pageSize: 2 });
    expect(first.workspaces).toHaveLength(2);
    const second = await t.client.workspaces.listWorkspaces({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.workspaces[0]!.name > first.workspaces[1]!.name).toBe(true);

    for (const user of ["k1", "k2", "k3"]) await t.client.workspaces.createAccessKey({ parent: "workspaces/pg-a", accessKey: { user, role: Role.VIEWER } });
    const page1 = await t.client.workspaces.listAccessKeys({ parent: "workspaces/pg-a", pageSize: 2 });
    const page2 = await t.client.workspaces.listAccessKeys({ parent: "workspaces/pg-a", pageSize: 2, pageToken: page1.nextPageToken });
    expect([...page1.accessKeys, ...page2.accessKeys].map((k) => k.user)).toEqual(["k3", "k2", "k1"]);
    expect(page2.nextPageToken).toBe("");
    const revoked = await t.client.workspaces.revokeAccessKey({ name: page1.accessKeys[0]!.name });
    expect(revoked.accessKey!.revokeTime).toBeDefined();
    expect(await codeOf(t.client.workspaces.revokeAccessKey({ name: page1.accessKeys[0]!.name }))).toBe(Code.FailedPrecondition);
    expect((await t.client.workspaces.listAccessKeys({ parent: "workspaces/pg-a" })).accessKeys.map((k) => k.user)).toEqual(["k2", "k1"]);
    expect((await t.client.workspaces.listAccessKeys({ parent: "workspaces/pg-a", showRevoked: true })).accessKeys).toHaveLength(3);
  });

  it("validates new keys field by field", async () => {
    const e = await t.client.workspaces
      .createAccessKey({ parent: "workspaces/default", accessKey: { user: "", role: Role.SERVER_ADMIN, expireTime: { seconds: 1n, nanos: 0 } } })
      .catch((x: unknown) => ConnectError.from(x));
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    expect((e as ConnectError).rawMessage).toMatch(/access_key.user: is required/);
    expect((e as ConnectError).rawMessage).toMatch(/access_key.role: must be ROLE_VIEWER, ROLE_EDITOR, ROLE_ADMIN or ROLE_WORKER/);
    expect((e as ConnectError).rawMessage).toMatch(/access_key.expire_time: .* is not in the future/);
  });
});
