// A worker with a worker key (ROLE_WORKER: worker RPCs and nothing else)
// does all its work: claims, reports, checkpoints up through signed URLs,
// a retried attempt resumes from its checkpoint down through signed URLs,
// outputs and a version from a directory. An upload that must find where
// its session stands asks the session's signed URL, since the key may not
// call FileService.GetUploadSession.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { CheckpointState, Role, TaskState, TaskType } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { patterned, tempDir } from "../testing/fixtures.js";
import type { TransferContext } from "../transfers/context.js";
import { contentRange, createAgents, httpRequest, readText } from "../transfers/http.js";
import { hashDirectory, manifestOf, sendStagedFiles } from "../transfers/staged-files.js";
import { TaskError } from "./errors.js";
import type { TaskHandler } from "./types.js";

describeEachDatabase("a worker with a worker key", (kind) => suite(kind));

function suite(kind: DriverKind) {
  let server: TestServer;
  let workerKey = "";
  let tmp: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    server = await startTestServer(kind, { auth: true, taskLeaseMs: 6000 });
    tmp = await tempDir(`sdk-worker-key-${kind}`);
    workerKey = (await server.client.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: "gpu-box", role: Role.WORKER } })).token;
    await server.client.models.createModel({ parent: "workspaces/default", modelId: "keyed" });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  it("claims, checkpoints, resumes a retried attempt from its checkpoint, and registers outputs as a version", async () => {
    const worker = server.clientWith(workerKey);
    await expect(worker.models.getModel({ name: "workspaces/default/models/keyed" })).rejects.toMatchObject({ code: Code.PermissionDenied });
    const seen: { resume: number | undefined; state: unknown; keyInParams: boolean }[] = [];
    const handler: TaskHandler = async (ctx) => {
      const dir = join(tmp.path, `attempt-${seen.length + 1}`);
      let state: unknown;
      if (ctx.resumeFrom) {
        await ctx.downloadResume(join(dir, "resume"));
        state = JSON.parse(await readFile(join(dir, "resume", "state.json"), "utf8"));
      }
      const block = JSON.parse(ctx.algModelParams)._alg_model_params;
      seen.push({ resume: ctx.resumeFrom?.epoch, state, keyInParams: `${block.accessId}.${block.accessKey}` === workerKey });
      if (!ctx.resumeFrom) {
        await mkdir(join(dir, "ck"), { recursive: true });
        await writeFile(join(dir, "ck", "state.json"), JSON.stringify({ epoch: 0, w: 0.5 }));
        await writeFile(join(dir, "ck", "weights.bin"), patterned(200_000, 901));
        await ctx.saveCheckpoint(join(dir, "ck"), 0);
        throw new TaskError("the GPU fell off the bus", { retryable: true });
      }
      const out = join(dir, "out");
      await mkdir(out, { recursive: true });
      await writeFile(join(out, "model.onnx"), patterned(50_000, 902));
      const version = await ctx.registerVersion({ dir: out, versionId: "1.0.0" });
      return { outputDir: out, result: { version: version.name } };
    };
    const task = await server.client.submitTask({ type: TaskType.TRAIN, model: "keyed", task: { queue: "keyed", maxAttempts: 2 } });
    const run = worker.runWorker({ queues: ["keyed"], workerId: "gpu-box", handler, onError: () => {} });
    const done = await server.client.waitForTask(task.name);
    await run.stop();
    expect(done.state).toBe(TaskState.SUCCEEDED);
    expect(seen).toEqual([
      { resume: undefined, state: undefined, keyInParams: true },
      { resume: 0, state: { epoch: 0, w: 0.5 }, keyInParams: true },
    ]);
    expect(done.outputFiles.map((f) => f.path)).toEqual(["model.onnx"]);
    const version = (await server.client.versions.getVersion({ ref: { case: "name", value: "workspaces/default/models/keyed/versions/1.0.0" } })).version!;
    expect(version.lineage?.sourceTask).toBe(task.name);
    expect(done.result).toEqual({ version: version.name });
  }, 60_000);

  it("continues an upload from where its session stands, asked of the session's signed URL", async () => {
    const worker = server.clientWith(workerKey);
    const dir = join(tmp.path, "stale");
    await mkdir(dir, { recursive: true });
    const data = patterned(300_000, 903);
    await writeFile(join(dir, "weights.bin"), data);
    const files = await hashDirectory(dir);
    const task = await server.client.submitTask({ type: TaskType.TRAIN, task: { queue: "stale" } });
    const { worker: w } = await worker.taskWorkers.registerWorker({ parent: "workspaces/default", workerId: "stale-box", worker: { queues: ["stale"] } });
    const claim = await worker.taskWorkers.claimTask({ worker: w!.name, waitSeconds: 10 });
    expect(claim.task?.name).toBe(task.name);
    const created = await worker.taskWorkers.createCheckpoint({ leaseToken: claim.leaseToken, epoch: 0, files: manifestOf(files) });
    const session = created.uploads[0]!.upload!;
    // Someone (an attempt that died) sent the first 100,000 bytes; this copy of the session still says 0.
    const first = await httpRequest({
      url: new URL(session.uploadUrl, server.url),
      method: "PUT",
      headers: { "content-length": "100000", "content-range": contentRange(0, 100_000, data.length) },
      body: Readable.from([data.subarray(0, 100_000)]),
      agents: createAgents(),
    });
    expect(first.statusCode).toBe(200);
    await readText(first);
    const ctx: TransferContext = {
      files: worker.files,
      streams: worker.files,
      baseUrl: server.url,
      idleMs: undefined,
      agents: createAgents(),
      resolveVersion: async (ref) => ref,
      dropStreamConnection: () => {},
    };
    await sendStagedFiles(ctx, created.uploads, files, { chunkBytes: 64 << 10 });
    const committed = await worker.taskWorkers.commitCheckpoint({ leaseToken: claim.leaseToken, epoch: 0 });
    expect(committed.checkpoint?.state).toBe(CheckpointState.COMMITTED);
    await worker.taskWorkers.failTask({ leaseToken: claim.leaseToken, message: "done testing", retryable: false });
  }, 60_000);
}
