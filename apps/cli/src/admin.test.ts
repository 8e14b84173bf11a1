// Workspaces, access keys and the audit log end to end: run() against the
// registry (the real server on PGlite) with auth on, as the server-wide admin key unless a test
// says otherwise.
import { Role } from "@modelreg/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";
import { createRegistry, START_MS, type Registry } from "./testing/registry.js";

let reg: Registry;
beforeAll(async () => {
  reg = await createRegistry({ auth: true, workspaces: ["default"] });
}, 60_000);
afterAll(async () => reg?.close());
const now = new Date(START_MS);

async function as(token: string, ...argv: string[]) {
  return runCli(argv, bufferIo({ MODELREG_ACCESS_KEY: token }), { transport: reg.transport, now: () => now });
}
const cli = (...argv: string[]) => as(reg.adminToken, ...argv);
async function ok(...argv: string[]) {
  return expectOk(argv, await cli(...argv));
}
const occurrences = (text: string, part: string) => text.split(part).length - 1;

beforeEach(async () => {
  await reg.reset();
});

describe("workspaces", () => {
  it("creates, gets, lists, updates and deletes workspaces, by id or full name", async () => {
    const created = await ok("workspaces", "create", "team-a", "--description", "risk team");
    expect(created.stdout).toMatch(/^Name:\s+workspaces\/team-a$/m);
    expect(created.stdout).toMatch(/^Description:\s+risk team$/m);
    expect(reg.calls.at(-1)).toMatchObject({ method: "CreateWorkspace", request: { workspaceId: "team-a", workspace: { description: "risk team" } } });
    await ok("workspaces", "create", "workspaces/team-b");
    expect(reg.calls.at(-1)!.request).toMatchObject({ workspaceId: "team-b" });

    expect((await ok("workspaces", "get", "workspaces/team-a", "-o", "json")).json()).toMatchObject({ name: "workspaces/team-a", description: "risk team" });
    const table = (await ok("workspaces", "list")).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^NAME\s+DESCRIPTION\s+CREATED\s+UPDATED$/);
    expect(table.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["default", "team-a", "team-b"]);
    expect((await ok("workspaces", "list", "--limit", "1", "-o", "json")).json()).toHaveLength(1);

    const updated = (await ok("workspaces", "update", "team-a", "--description", "", "-o", "json")).json();
    expect(updated.description).toBe("");
    expect(reg.calls.at(-1)!.request).toMatchObject({ workspace: { name: "workspaces/team-a" }, updateMask: { paths: ["description"] } });

    expect((await ok("workspaces", "delete", "team-b")).stdout).toBe("deleted workspace workspaces/team-b\n");
    const def = await cli("workspaces", "delete", "default");
    expect(def.code).toBe(19);
  });

  it("needs the server-wide admin key to create one", async () => {
    const admin = await reg.addKey({ user: "wadmin", role: Role.ADMIN });
    const r = await as(admin, "workspaces", "create", "team-x");
    expect(r.code).toBe(17);
    expect(r.stderr).toContain("needs the server-wide admin key");
  });

  it.each([
    [["workspaces", "get", "workspaces/a/models/b"], /is not a workspace/],
    [["workspaces", "update", "a"], /required option '--description <text>' not specified/],
    [["workspaces", "delete", "workspaces/-"], /is not a workspace/],
  ])("refuses %j with exit 2 before any call", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(reg.calls).toEqual([]);
  });
});

describe("keys", () => {
  it("creates a key and prints its token once, with a warning", async () => {
    const r = await ok("keys", "create", "alice", "--role", "editor", "--expires", "30d", "--description", "laptop");
    const call = reg.calls.at(-1)!;
    expect(call).toMatchObject({ method: "CreateAccessKey", request: { parent: "workspaces/default", accessKey: { user: "alice", role: Role.EDITOR, description: "laptop" } } });
    const expire = (call.request as { accessKey: { expireTime: { seconds: bigint } } }).accessKey.expireTime;
    expect(Number(expire.seconds) * 1000).toBe(START_MS + 30 * 86_400_000);

    const token = /^Token:\s+(\S+)$/m.exec(r.stdout)![1]!;
    const secret = token.slice(token.indexOf(".") + 1);
    expect(token).toMatch(/^AK\w+\./);
    expect(occurrences(r.stdout + r.stderr, secret)).toBe(1);
    expect(r.stdout).toMatch(/^User:\s+alice$/m);
    expect(r.stdout).toMatch(/^Role:\s+editor$/m);
    expect(r.stdout).toMatch(new RegExp(`^Expires:\\s+${new Date(START_MS + 30 * 86_400_000).toISOString().replace(".000Z", "Z")}$`, "m"));
    expect(r.stderr).toMatch(/^warning: this is the only time the token of AK\w+ is shown/);
    expect(r.stderr).not.toContain(secret);

    // The token works.
    expect((await as(token, "whoami", "-o", "json")).json()).toMatchObject({ user: "alice", role: "ROLE_EDITOR" });
    // And is never shown again.
    for (const argv of [["keys", "list"], ["keys", "list", "-o", "json"], ["audit", "list"], ["audit", "list", "-o", "json"]]) {
      const again = await ok(...argv);
      expect(again.stdout + again.stderr).not.toContain(secret);
    }
  });

  it("prints the full response as JSON, in the workspace asked for", async () => {
    await ok("workspaces", "create", "team-a");
    const r = await ok("keys", "create", "svc-fraud", "--role", "viewer", "--workspace", "team-a", "-o", "json");
    const res = r.json();
    expect(res).toMatchObject({ accessKey: { user: "svc-fraud", role: "ROLE_VIEWER", name: expect.stringMatching(/^workspaces\/team-a\/accessKeys\/AK/) } });
    expect(res.token).toBe(`${res.accessKey.keyId}.${res.secret}`);
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/team-a" });
    expect(r.stderr).toContain("warning: this is the only time");
  });

  it.each([
    [["keys", "create", "alice", "--role", "viewer", "--expires", "soon"], /--expires "soon": expected a time such as 2026-12-31/],
    [["keys", "create", "alice", "--role", "viewer", "--expires", "2020-01-01"], /2020-01-01T00:00:00.000Z is not in the future/],
    [["keys", "create", "alice", "--role", "viewer", "--expires", "2026-02-30"], /no such date/],
    [["keys", "create", "alice", "--role", "viewer", "--expires", "0h"], /longer than zero/],
    [["keys", "create", "alice"], /required option '--role <role>' not specified/],
    [["keys", "create", "alice", "--role", "owner"], /Allowed choices are viewer, editor, admin/],
    [["keys", "revoke", "a/b"], /is not an access key/],
    [["keys", "rotate", "workspaces/default/models/m"], /is not an access key/],
  ])("refuses %j with exit 2 before any call", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
    expect(reg.calls).toEqual([]);
  });

  it("does not echo a whole token given where a key id belongs", async () => {
    const r = await cli("keys", "revoke", reg.adminToken);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("give the key id (the part before the dot), not the whole token");
    expect(r.stderr).not.toContain(reg.adminToken.split(".")[1]!);
  });

  it("lists, revokes and rotates keys by id or full name", async () => {
    const alice = (await ok("keys", "create", "alice", "--role", "editor", "-o", "json")).json();
    const bobExpires = new Date(START_MS + 30 * 60_000).toISOString().replace(".000Z", "Z");
    const bob = (await ok("keys", "create", "bob", "--role", "viewer", "--expires", bobExpires, "-o", "json")).json();

    const table = (await ok("keys", "list")).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^KEY ID\s+USER\s+ROLE\s+STATUS\s+EXPIRES\s+LAST USED\s+CREATED\s+DESCRIPTION$/);
    expect(table[1]).toMatch(new RegExp(`^${bob.accessKey.keyId}\\s+bob\\s+viewer\\s+active\\s+${bobExpires}\\s+never\\s+`));
    expect(table[2]).toMatch(new RegExp(`^${alice.accessKey.keyId}\\s+alice\\s+editor\\s+active\\s+never\\s+never\\s+`));

    const revoked = await ok("keys", "revoke", alice.accessKey.keyId);
    expect(reg.calls.at(-1)!.request).toEqual(expect.objectContaining({ name: `workspaces/default/accessKeys/${alice.accessKey.keyId}` }));
    expect(revoked.stdout).toMatch(/^Status:\s+revoked$/m);
    expect((await as(alice.token, "whoami")).code).toBe(26);
    expect((await cli("keys", "revoke", alice.accessKey.keyId)).code).toBe(19);

    expect((await ok("keys", "list", "-o", "json")).json().map((k: { user: string }) => k.user)).toEqual(["bob"]);
    expect((await ok("keys", "list", "--all", "-o", "json")).json().map((k: { user: string }) => k.user)).toEqual(["bob", "alice"]);
    expect(reg.calls.at(-1)!.request).toMatchObject({ showRevoked: true });

    const rotated = await ok("keys", "rotate", bob.accessKey.name);
    const token = /^Token:\s+(\S+)$/m.exec(rotated.stdout)![1]!;
    expect(occurrences(rotated.stdout + rotated.stderr, token.split(".")[1]!)).toBe(1);
    expect(rotated.stdout).toMatch(new RegExp(`^Rotated from:\\s+${bob.accessKey.keyId}$`, "m"));
    expect(rotated.stderr).toContain(`revoked ${bob.accessKey.name}; it is replaced by ${token.split(".")[0]}`);
    expect(rotated.stderr).toContain("warning: this is the only time");
    expect((await as(token, "whoami", "-o", "json")).json().user).toBe("bob");
    expect((await as(bob.token, "whoami")).code).toBe(26);
  });

  it("says when there are no keys", async () => {
    const r = await ok("keys", "list");
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("no active or expired access keys in workspaces/default\n");
  });
});

describe("audit list", () => {
  beforeEach(async () => {
    const alice = await reg.addKey({ user: "alice", role: Role.EDITOR });
    await as(alice, "models", "create", "fraud");
    await as(alice, "models", "delete", "fraud"); // editor: refused
    await ok("workspaces", "create", "team-a");
  });

  it("renders TIME, USER, KEY, METHOD (short), RESOURCE, CODE, newest first", async () => {
    const r = await ok("audit", "list");
    expect(reg.calls.at(-1)).toMatchObject({ method: "ListAuditEvents", request: { parent: "workspaces/default", filter: "" } });
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+USER\s+KEY\s+METHOD\s+RESOURCE\s+CODE$/);
    const day = new Date(START_MS).toISOString().slice(0, 10);
    expect(lines[1]).toMatch(new RegExp(`^${day}T\\d\\d:\\d\\d:\\d\\dZ\\s+alice\\s+AK\\w+\\s+ModelService/DeleteModel\\s+workspaces/default/models/fraud\\s+permission_denied$`));
    expect(lines[2]).toMatch(/^\d{4}-\S+\s+alice\s+AK\w+\s+ModelService\/CreateModel\s+workspaces\/default\s+ok$/);
    // The server-wide admin that made alice's key is in the log too.
    expect(lines[3]).toMatch(/^\d{4}-\S+\s+admin\s+\S+\s+WorkspaceService\/CreateAccessKey\s+workspaces\/default\s+ok$/);
    expect(lines).toHaveLength(4);
    // The columns line up.
    expect(lines[1]!.indexOf("ModelService")).toBe(lines[0]!.indexOf("METHOD"));
  });

  it("passes --filter, --all-workspaces and --limit through; JSON has every field", async () => {
    const filtered = await ok("audit", "list", "--filter", 'code = "ok"', "--all-workspaces", "-o", "json");
    expect(reg.calls.at(-1)!.request).toMatchObject({ parent: "workspaces/-", filter: 'code = "ok"' });
    const events = filtered.json();
    expect(events.map((e: { method: string }) => e.method)).toEqual([
      "modelreg.v1.WorkspaceService/CreateWorkspace",
      "modelreg.v1.ModelService/CreateModel",
      "modelreg.v1.WorkspaceService/CreateAccessKey",
    ]);
    expect(Object.keys(events[0]).sort()).toEqual(["accessKeyId", "code", "method", "name", "requestId", "resource", "time", "user", "workspace"]);

    const one = await ok("audit", "list", "--all-workspaces", "--limit", "1", "-o", "json");
    expect(one.json()).toHaveLength(1);
    expect(reg.calls.at(-1)!.request).toMatchObject({ pageSize: 1 });

    const none = await ok("audit", "list", "--filter", 'user = "nobody"');
    expect(none.stderr).toBe("no audit events match the filter in workspaces/default\n");
    const bad = await cli("audit", "list", "--filter", "user ~ x");
    expect(bad.code).toBe(13);
    expect(bad.stderr).toMatch(/^ {2}filter: /m);
  });

  it("is for admins", async () => {
    const editor = await reg.addKey({ user: "ed", role: Role.EDITOR });
    expect((await as(editor, "audit", "list")).code).toBe(17);
    const wadmin = await reg.addKey({ user: "wadmin", role: Role.ADMIN });
    expect((await as(wadmin, "audit", "list")).code).toBe(0);
    // Every workspace's log is the server-wide key's: to a workspace admin it is not there (15).
    expect((await as(wadmin, "audit", "list", "--all-workspaces")).code).toBe(15);
  });
});
