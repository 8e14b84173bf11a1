// Every RPC x {no key, viewer, editor, admin, worker, admin key of another
// workspace} against the expected code. The RPC list comes from the service
// descriptors, so a new RPC without a case here fails this test.
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createHash, randomBytes } from "node:crypto";
import { ExportFormat, Role, TaskState, TaskType } from "@modelreg/proto";
import type { RegistryClient } from "@modelreg/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_SERVICES } from "../app.js";
import { requiredRole } from "../interceptors/auth.js";
import { hasRole } from "../auth/principal.js";
import { createTestApp, type TestApp } from "../testing/test-app.js";

type Caller = "none" | "viewer" | "editor" | "admin" | "worker" | "other";
const ROLE_OF: Record<Exclude<Caller, "none" | "other">, Role> = { viewer: Role.VIEWER, editor: Role.EDITOR, admin: Role.ADMIN, worker: Role.WORKER };

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
  /** A QUEUED task of team-a on a queue of its own. */
  task: async (extra: object = {}) =>
    (await t.client.tasks.createTask({ parent: "workspaces/team-a", task: { type: TaskType.TRAIN, queue: fresh("q"), ...extra } })).task!.name,
  worker: async (queue = fresh("q")) =>
    (await t.client.taskWorkers.registerWorker({ parent: "workspaces/team-a", workerId: fresh("w"), worker: { queues: [queue] } })).worker!.name,
  /** A task claimed by a worker of team-a: its lease token. */
  claimed: async () => {
    const queue = fresh("q");
    await make.task({ queue });
    return (await t.client.taskWorkers.claimTask({ worker: await make.worker(queue) })).leaseToken;
  },
  /** A claimed task with a committed checkpoint at epoch 0 (one empty file). */
  checkpointed: async () => {
    const leaseToken = await make.claimed();
    await t.client.taskWorkers.createCheckpoint({ leaseToken, epoch: 0, files: [{ path: "e.txt", sizeBytes: 0n, sha256: EMPTY }] });
    await t.client.taskWorkers.commitCheckpoint({ leaseToken, epoch: 0 });
    return leaseToken;
  },
  key: async () =>
    (await t.client.workspaces.createAccessKey({ parent: "workspaces/team-a", accessKey: { user: fresh("u"), role: Role.VIEWER } })).accessKey!.name,
};

/** A cancel that reached the export but found it finished already got past every access check. */
function expectFinished(e: unknown): void {
  if (ConnectError.from(e).code !== Code.FailedPrecondition) throw e;
}

/** A call that reached the resource and was refused for its state got past every access check. */
function expectPrecondition(e: unknown): void {
  if (ConnectError.from(e).code !== Code.FailedPrecondition) throw e;
}

const EMPTY_FILE = { path: "e.txt", sizeBytes: 0n, sha256: createHash("sha256").digest("hex") };

/** TaskService: one request per RPC, on fresh tasks of team-a. */
const TASK_CASES: Record<string, () => Promise<{ call: (c: RegistryClient) => Promise<unknown>; crossTenant: boolean }>> = {
  "TaskService/CreateTask": async () => ({ call: (c) => c.tasks.createTask({ parent: "workspaces/team-a", task: { type: TaskType.TRAIN, queue: fresh("q") } }), crossTenant: true }),
  "TaskService/GetTask": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.getTask({ name }), crossTenant: true };
  },
  "TaskService/ListTasks": async () => ({ call: (c) => c.tasks.listTasks({ parent: "workspaces/team-a" }), crossTenant: true }),
  "TaskService/UpdateTask": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.updateTask({ task: { name, description: "x" }, updateMask: { paths: ["description"] } }), crossTenant: true };
  },
  "TaskService/DeleteTask": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.deleteTask({ name }), crossTenant: true };
  },
  "TaskService/StartTask": async () => {
    // A PENDING task whose input is not uploaded: every caller who may start it is told so.
    const base = await make.ready();
    const data = randomBytes(8);
    const input = { path: "in.bin", sizeBytes: 8n, sha256: createHash("sha256").update(data).digest("hex") };
    const { task } = await t.client.tasks.createTask({ parent: "workspaces/team-a", task: { type: TaskType.PREDICT, baseVersion: base, inputFiles: [input] } });
    return { call: (c) => c.tasks.startTask({ name: task!.name }).catch(expectPrecondition), crossTenant: true };
  },
  "TaskService/StopTask": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.stopTask({ name }), crossTenant: true };
  },
  "TaskService/ResumeTask": async () => {
    const name = await make.task();
    await t.client.tasks.stopTask({ name });
    return { call: (c) => c.tasks.resumeTask({ name }), crossTenant: true };
  },
  "TaskService/CancelTask": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.cancelTask({ name }), crossTenant: true };
  },
  "TaskService/WatchTask": async () => {
    const name = await make.task();
    return {
      call: async (c) => {
        for await (const _ of c.tasks.watchTask({ name })) break;
      },
      crossTenant: true,
    };
  },
  "TaskService/ListTaskLogs": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.listTaskLogs({ name, tail: 10 }), crossTenant: true };
  },
  "TaskService/ListTaskMetrics": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.listTaskMetrics({ name }), crossTenant: true };
  },
  "TaskService/ListTaskCheckpoints": async () => {
    const name = await make.task();
    return { call: (c) => c.tasks.listTaskCheckpoints({ name }), crossTenant: true };
  },
  "TaskService/RegisterTaskOutput": async () => {
    // A task with nothing to register: every caller who may register is told so.
    const name = await make.task({ model: await make.model() });
    return { call: (c) => c.tasks.registerTaskOutput({ name }).catch(expectPrecondition), crossTenant: true };
  },
  "TaskService/GetDefaultParams": async () => ({ call: (c) => c.tasks.getDefaultParams({ parent: "workspaces/team-a", type: TaskType.TRAIN }), crossTenant: true }),
  "TaskService/ListWorkers": async () => ({ call: (c) => c.tasks.listWorkers({ parent: "workspaces/team-a" }), crossTenant: true }),
  "TaskService/GetWorker": async () => {
    const name = await make.worker();
    return { call: (c) => c.tasks.getWorker({ name }), crossTenant: true };
  },
  "TaskService/CreateParamTemplate": async () => ({
    call: (c) =>
      c.tasks.createParamTemplate({
        parent: "workspaces/team-a",
        template: { templateId: fresh("tpl"), types: [TaskType.TRAIN], schema: { type: "object", additionalProperties: false, properties: { x: { type: "integer", default: 1 } } } },
      }),
    crossTenant: true,
  }),
  "TaskService/ListParamTemplates": async () => ({ call: (c) => c.tasks.listParamTemplates({ parent: "workspaces/team-a" }), crossTenant: true }),
  "TaskService/DeleteParamTemplate": async () => {
    const templateId = fresh("tpl");
    const schema = { type: "object", additionalProperties: false, properties: { x: { type: "integer", default: 1 } } };
    await t.client.tasks.createParamTemplate({ parent: "workspaces/team-a", template: { templateId, types: [TaskType.TRAIN], schema } });
    return { call: (c) => c.tasks.deleteParamTemplate({ name: `workspaces/team-a/templates/${templateId}` }), crossTenant: true };
  },
};

/** TaskWorkerService: one request per RPC, each on a fresh attempt of a task of team-a. */
const WORKER_CASES: Record<string, () => Promise<{ call: (c: RegistryClient) => Promise<unknown>; crossTenant: boolean }>> = {
  "TaskWorkerService/RegisterWorker": async () => ({
    call: (c) => c.taskWorkers.registerWorker({ parent: "workspaces/team-a", workerId: fresh("w"), worker: { queues: ["default"] } }),
    crossTenant: true,
  }),
  "TaskWorkerService/ClaimTask": async () => {
    const worker = await make.worker();
    return { call: (c) => c.taskWorkers.claimTask({ worker }), crossTenant: true };
  },
  "TaskWorkerService/ReportProgress": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.reportProgress({ leaseToken }), crossTenant: true };
  },
  "TaskWorkerService/CreateCheckpoint": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.createCheckpoint({ leaseToken, epoch: 0, files: [EMPTY_FILE] }), crossTenant: true };
  },
  "TaskWorkerService/CommitCheckpoint": async () => {
    const leaseToken = await make.claimed();
    await t.client.taskWorkers.createCheckpoint({ leaseToken, epoch: 0, files: [EMPTY_FILE] });
    return { call: (c) => c.taskWorkers.commitCheckpoint({ leaseToken, epoch: 0 }), crossTenant: true };
  },
  "TaskWorkerService/StageTaskOutputs": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.stageTaskOutputs({ leaseToken, files: [EMPTY_FILE] }), crossTenant: true };
  },
  "TaskWorkerService/CompleteTask": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.completeTask({ leaseToken, state: TaskState.SUCCEEDED }), crossTenant: true };
  },
  "TaskWorkerService/FailTask": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.failTask({ leaseToken, message: "broken" }), crossTenant: true };
  },
  "TaskWorkerService/ReleaseTask": async () => {
    const leaseToken = await make.claimed();
    return { call: (c) => c.taskWorkers.releaseTask({ leaseToken, reason: "node preempted" }), crossTenant: true };
  },
  "TaskWorkerService/RegisterVersion": async () => {
    const leaseToken = await make.checkpointed();
    const model = await make.model();
    return { call: (c) => c.taskWorkers.registerVersion({ leaseToken, epoch: 0, model }), crossTenant: true };
  },
};

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
  "FileService/CreateUploadSession": async () => {
    const v = await make.version();
    const head = createHash("sha256").update(randomBytes(16)).digest("hex");
    return { call: (c) => c.files.createUploadSession({ parent: v.name, sizeBytes: 16n, headSha256: head }), crossTenant: true };
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
  ...TASK_CASES,
  ...WORKER_CASES,
};

const methods: { id: string; method: DescMethod }[] = API_SERVICES.flatMap((s) =>
  s.methods.map((m) => ({ id: `${s.name}/${m.name}`, method: m })),
);

function expected(caller: Caller, method: DescMethod, crossTenant: boolean): Code | "allowed" {
  if (caller === "none") return Code.Unauthenticated;
  const required = requiredRole(method)!;
  if (required === Role.SERVER_ADMIN) return Code.PermissionDenied;
  const role = caller === "other" ? Role.ADMIN : ROLE_OF[caller];
  if (!hasRole({ user: caller, keyId: caller, workspace: "team-a", role, expireTime: null }, required)) return Code.PermissionDenied;
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
      for (const caller of ["none", "viewer", "editor", "worker", "other", "admin"] as const) {
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
        if (want === Code.PermissionDenied) expect((got as ConnectError).message).toMatch(/needs (the .* role or higher|the server-wide admin key|a worker, editor or admin key)/);
      }
    });
  }
});
