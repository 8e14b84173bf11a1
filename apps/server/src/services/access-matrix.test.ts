// Every RPC x {no key, viewer, editor, admin, admin key of another
// workspace} against the expected code. The RPC list comes from the service
// descriptors, so a new RPC without a case here fails this test.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createHash, randomBytes } from "node:crypto";
import { ExportFormat, Role } from "@modelreg/proto";
import type { RegistryClient } from "@modelreg/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_SERVICES } from "../app.js";
import { requiredRole } from "../interceptors/auth.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";

type Caller = "none" | "viewer" | "editor" | "admin" | "other";
const ROLE_OF: Record<Exclude<Caller, "none" | "other">, Role> = { viewer: Role.VIEWER, editor: Role.EDITOR, admin: Role.ADMIN };

let t: TestApp;
const tokens: Record<string, string> = {};
let counter = 0;
const EMPTY = createHash("sha256").digest("hex");
const fresh = (prefix: string) => `${prefix}-${++counter}`;

/** Helpers that make fresh resources in workspace team-a with the server-wide key. */
const make = {
  model: async () => (await t.client.models.createModel({ parent: "workspaces/team-a", modelId: fresh("m") })).model!.name,
  version: async () => {
    const parent = await make.model();
    return (await t.client.versions.createVersion({ parent })).version!;
  },
  /** A version with one staged file whose content is not uploaded: its upload session. */
  upload: async () => {
    const v = await make.version();
    const data = randomBytes(16);
    const sha256 = createHash("sha256").update(data).digest("hex");
    const staged = await t.client.files.stageVersionFiles({ name: v.name, files: [{ path: "w.bin", sizeBytes: 16n, sha256 }] });
    return { version: v.name, session: staged.files[0]!.upload!.name, data };
  },
  /** A READY version holding one empty file, e.txt. */
  ready: async () => {
    const v = await make.version();
    await t.client.files.stageVersionFiles({ name: v.name, files: [{ path: "e.txt", sizeBytes: 0n, sha256: EMPTY }] });
    await t.client.files.commitVersionFiles({ name: v.name });
    return v.name;
  },
  /** An export of a READY version, created (its job may still run). */
  export: async () => (await t.client.exports.createExport({ parent: await make.ready(), format: ExportFormat.TAR })).export!.name,
  key: async () =>
    (await t.client.workspaces.createAccessKey({ parent: "workspaces/team-a", accessKey: { user: fresh("u"), role: Role.VIEWER } })).accessKey!.name,
};

/** A cancel that reached the export but found it finished already got past every access check. */
function expectFinished(e: unknown): void {
  if (ConnectError.from(e).code !== Code.FailedPrecondition) throw e;
}

/** One request per RPC, addressing (fresh) resources of team-a. */
const CASES: Record<string, () => Promise<{ call: (c: RegistryClient) => Promise<unknown>; crossTenant: boolean }>> = {
  "ModelService/CreateModel": async () => ({ call: (c) => c.models.createModel({ parent: "workspaces/team-a", modelId: fresh("new") }), crossTenant: true }),
  "ModelService/GetModel": async () => {
    const name = await make.model();
    return { call: (c) => c.models.getModel({ name }), crossTenant: true };
  },
  "ModelService/ListModels": async () => ({ call: (c) => c.models.listModels({ parent: "workspaces/team-a" }), crossTenant: true }),
  "ModelService/UpdateModel": async () => {
    const name = await make.model();
    return { call: (c) => c.models.updateModel({ model: { name, description: "x" }, updateMask: { paths: ["description"] } }), crossTenant: true };
  },
  "ModelService/DeleteModel": async () => {
    const name = await make.model();
    return { call: (c) => c.models.deleteModel({ name }), crossTenant: true };
  },
  "ModelService/SetAlias": async () => {
    const v = await make.version();
    return { call: (c) => c.models.setAlias({ model: v.model, alias: "staging", version: v.version }), crossTenant: true };
  },
  "ModelService/DeleteAlias": async () => {
    const v = await make.version();
    await t.client.models.setAlias({ model: v.model, alias: "staging", version: v.version });
    return { call: (c) => c.models.deleteAlias({ model: v.model, alias: "staging" }), crossTenant: true };
  },
  "VersionService/CreateVersion": async () => {
    const parent = await make.model();
    return { call: (c) => c.versions.createVersion({ parent }), crossTenant: true };
  },
  "VersionService/GetVersion": async () => {
    const v = await make.version();
    return { call: (c) => c.versions.getVersion({ ref: { case: "uid", value: v.uid } }), crossTenant: true };
  },
  "VersionService/ListVersions": async () => {
    const parent = await make.model();
    return { call: (c) => c.versions.listVersions({ parent }), crossTenant: true };
  },
  "VersionService/UpdateVersion": async () => {
    const v = await make.version();
    return { call: (c) => c.versions.updateVersion({ version: { name: v.name, description: "x" }, updateMask: { paths: ["description"] } }), crossTenant: true };
  },
  "VersionService/DeleteVersion": async () => {
    const v = await make.version();
    return { call: (c) => c.versions.deleteVersion({ name: v.name }), crossTenant: true };
  },
  "FileService/StageVersionFiles": async () => {
    const v = await make.version();
    return { call: (c) => c.files.stageVersionFiles({ name: v.name, files: [{ path: "e.txt", sizeBytes: 0n, sha256: EMPTY }] }), crossTenant: true };
  },
  "FileService/CommitVersionFiles": async () => {
    const v = await make.version();
    await t.client.files.stageVersionFiles({ name: v.name, files: [] });
    return { call: (c) => c.files.commitVersionFiles({ name: v.name }), crossTenant: true };
  },
  "FileService/ListVersionFiles": async () => {
    const name = await make.ready();
    return { call: (c) => c.files.listVersionFiles({ version: { case: "name", value: name } }), crossTenant: true };
  },
  "FileService/GetUploadSession": async () => {
    const { session } = await make.upload();
    return { call: (c) => c.files.getUploadSession({ name: session }), crossTenant: true };
  },
  "FileService/WriteUpload": async () => {
    const { session, data } = await make.upload();
    return {
      call: (c) =>
        c.files.writeUpload(
          (async function* () {
            yield { name: session, offset: 0n, data };
          })(),
        ),
      crossTenant: true,
    };
  },
  "FileService/ReadFile": async () => {
    const name = await make.ready();
    return {
      call: async (c) => {
        for await (const _ of c.files.readFile({ version: { case: "name", value: name }, path: "e.txt" }));
      },
      crossTenant: true,
    };
  },
  "ExportService/CreateExport": async () => {
    const parent = await make.ready();
    return { call: (c) => c.exports.createExport({ parent, format: ExportFormat.TAR }), crossTenant: true };
  },
  "ExportService/GetExport": async () => {
    const name = await make.export();
    return { call: (c) => c.exports.getExport({ name }), crossTenant: true };
  },
  "ExportService/ListExports": async () => {
    const parent = await make.ready();
    return { call: (c) => c.exports.listExports({ parent }), crossTenant: true };
  },
  "ExportService/GetLatestExport": async () => {
    const parent = await make.ready();
    return { call: (c) => c.exports.getLatestExport({ parent }), crossTenant: true };
  },
  "ExportService/CancelExport": async () => {
    // A finished export: every caller who may cancel is told it is finished.
    const name = await make.export();
    return { call: (c) => c.exports.cancelExport({ name }).catch((e) => expectFinished(e)), crossTenant: true };
  },
  "ExportService/DeleteExport": async () => {
    const name = await make.export();
    return { call: (c) => c.exports.deleteExport({ name }), crossTenant: true };
  },
  "WorkspaceService/CreateWorkspace": async () => ({ call: (c) => c.workspaces.createWorkspace({ workspaceId: fresh("ws") }), crossTenant: false }),
  "WorkspaceService/GetWorkspace": async () => ({ call: (c) => c.workspaces.getWorkspace({ name: "workspaces/team-a" }), crossTenant: true }),
  "WorkspaceService/ListWorkspaces": async () => ({ call: (c) => c.workspaces.listWorkspaces({}), crossTenant: false }),
  "WorkspaceService/UpdateWorkspace": async () => ({
    call: (c) => c.workspaces.updateWorkspace({ workspace: { name: "workspaces/team-a", description: "x" }, updateMask: { paths: ["description"] } }),
    crossTenant: true,
  }),
  "WorkspaceService/DeleteWorkspace": async () => {
    const id = fresh("gone");
    await t.client.workspaces.createWorkspace({ workspaceId: id });
    return { call: (c) => c.workspaces.deleteWorkspace({ name: `workspaces/${id}` }), crossTenant: false };
  },
  "WorkspaceService/CreateAccessKey": async () => ({
    call: (c) => c.workspaces.createAccessKey({ parent: "workspaces/team-a", accessKey: { user: fresh("u"), role: Role.VIEWER } }),
    crossTenant: true,
  }),
  "WorkspaceService/ListAccessKeys": async () => ({ call: (c) => c.workspaces.listAccessKeys({ parent: "workspaces/team-a" }), crossTenant: true }),
  "WorkspaceService/RevokeAccessKey": async () => {
    const name = await make.key();
    return { call: (c) => c.workspaces.revokeAccessKey({ name }), crossTenant: true };
  },
  "WorkspaceService/RotateAccessKey": async () => {
    const name = await make.key();
    return { call: (c) => c.workspaces.rotateAccessKey({ name }), crossTenant: true };
  },
  "WorkspaceService/ListAuditEvents": async () => ({ call: (c) => c.workspaces.listAuditEvents({ parent: "workspaces/team-a" }), crossTenant: true }),
  "WorkspaceService/GetServerInfo": async () => ({ call: (c) => c.workspaces.getServerInfo({}), crossTenant: false }),
};

const methods: { id: string; method: DescMethod }[] = API_SERVICES.flatMap((s) =>
  s.methods.map((m) => ({ id: `${s.name}/${m.name}`, method: m })),
);

function expected(caller: Caller, method: DescMethod, crossTenant: boolean): Code | "allowed" {
  if (caller === "none") return Code.Unauthenticated;
  const required = requiredRole(method)!;
  if (required === Role.SERVER_ADMIN) return Code.PermissionDenied;
  const role = caller === "other" ? Role.ADMIN : ROLE_OF[caller];
  if (role < required) return Code.PermissionDenied;
  if (caller === "other" && crossTenant) return Code.NotFound;
  return "allowed";
}

describe("access matrix", () => {
  beforeAll(async () => {
    t = await createTestApp("pglite", { auth: true });
    for (const ws of ["team-a", "team-b"]) await t.client.workspaces.createWorkspace({ workspaceId: ws });
    for (const [caller, role] of Object.entries(ROLE_OF))
      tokens[caller] = (await t.client.workspaces.createAccessKey({ parent: "workspaces/team-a", accessKey: { user: caller, role } })).token;
    tokens.other = (await t.client.workspaces.createAccessKey({ parent: "workspaces/team-b", accessKey: { user: "intruder", role: Role.ADMIN } })).token;
  }, 60_000);
  afterAll(async () => t?.close());

  it("has a case for every RPC of every modelreg service", () => {
    expect(methods.map((m) => m.id).filter((id) => !CASES[id])).toEqual([]);
    expect(methods.filter((m) => requiredRole(m.method) === undefined).map((m) => m.id)).toEqual([]);
  });

  for (const { id, method } of methods) {
    it(`${id}: answers each caller as its role allows`, async () => {
      const make = CASES[id];
      if (!make) return;
      for (const caller of ["none", "viewer", "editor", "other", "admin"] as const) {
        const { call, crossTenant } = await make();
        const client = t.clientWith(caller === "none" ? "" : tokens[caller]);
        const want = expected(caller, method, crossTenant);
        const got = await call(client).then(
          () => "allowed" as const,
          (e: unknown) => ConnectError.from(e),
        );
        const gotCode = got === "allowed" ? "allowed" : got.code;
        expect(gotCode === "allowed" ? "allowed" : Code[gotCode], `${id} as ${caller}: ${got === "allowed" ? "" : got.message}`).toBe(
          want === "allowed" ? "allowed" : Code[want],
        );
        if (want === Code.PermissionDenied) expect((got as ConnectError).message).toMatch(/needs (the .* role or higher|the server-wide admin key)/);
      }
    });
  }
});
