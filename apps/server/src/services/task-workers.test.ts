// TaskWorkerService through a real server on both databases: a worker
// registers, claims with a lease, reports (a retried report records
// nothing twice), saves checkpoints through the signed upload URLs, is
// stopped and resumed from a chosen epoch, finishes, and its result becomes
// a version that leads back to the task. Leases: a stale token is refused,
// a worker that stops reporting loses its task to another (which resumes
// from the last committed checkpoint), FAILED after the last attempt, and a
// stop or cancel of a task whose worker died is finished by the server.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { TaskService, TaskState, TaskType, TaskWorkerService, VersionFileSchema } from "@modelreg/proto";
import { Code } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { failure } from "../testing/failure.js";
import { request } from "../testing/http-request.js";
import { startTestServer, type TestServer } from "../testing/test-app.js";

describeEachDatabase("task workers", (kind) => suite(kind));

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const file = (path: string, data: Uint8Array) => create(VersionFileSchema, { path, sizeBytes: BigInt(data.length), sha256: sha(data) });

function suite(kind: DriverKind) {
  let t: TestServer;
  let tasks: Client<typeof TaskService>;
  let workers: Client<typeof TaskWorkerService>;
  let n = 0;
  beforeAll(async () => {
    // Waiting claims never look again on their own here: only a wake-up (NOTIFY) hands them a task.
    t = await startTestServer(kind, { taskLeaseMs: 2000, taskClaimRecheckMs: 3_600_000 });
    const transport = createConnectTransport({ baseUrl: t.url, httpVersion: "1.1" });
    tasks = createClient(TaskService, transport);
    workers = createClient(TaskWorkerService, transport);
    await t.client.models.createModel({ parent: "workspaces/default", modelId: "trained" });
  }, 60_000);
  afterAll(async () => t?.close());

  /** A worker on its own queue, so tests do not take each other's tasks. */
  async function newWorker(queue = `q${++n}`) {
    const { worker } = await workers.registerWorker({ parent: "workspaces/default", workerId: `w${++n}`, worker: { queues: [queue], cpuCount: 4 } });
    return { name: worker!.name, queue };
  }
  async function newTask(queue: string, extra: object = {}) {
    const { task } = await tasks.createTask({ parent: "workspaces/default", task: { type: TaskType.TRAIN, queue, model: "workspaces/default/models/trained", dataVersion: "2026-10", ...extra } });
    return task!;
  }
  const claim = (worker: string, waitSeconds = 0) => workers.claimTask({ worker, waitSeconds });
  /** Saves a checkpoint of one file through the signed PUT URL and commits it. */
  async function checkpoint(leaseToken: string, epoch: number) {
    const data = new TextEncoder().encode(`weights after epoch ${epoch} ${Math.random()}`);
    const created = await workers.createCheckpoint({ leaseToken, epoch, files: [file("model.bin", data)], metrics: { accuracy: 0.5 + epoch / 100 } });
    const upload = created.uploads[0]!.upload!;
    expect((await failure(workers.commitCheckpoint({ leaseToken, epoch }))).reason).toBe("UPLOADS_INCOMPLETE");
    const put = await request(new URL(upload.uploadUrl, t.url).toString(), { method: "PUT", body: Buffer.from(data) });
    expect(put.status).toBeLessThan(300);
    return (await workers.commitCheckpoint({ leaseToken, epoch })).checkpoint!;
  }

  it("claims with a lease, reports idempotently, and hands out the params and the lineage block", async () => {
    const w = await newWorker();
    expect((await claim(w.name)).task).toBeUndefined();
    const created = await newTask(w.queue, { algorithmCode: "logreg", algorithmVersion: "1.0" });
    const c = await claim(w.name);
    expect(c.task?.name).toBe(created.name);
    expect(c.task?.state).toBe(TaskState.RUNNING);
    expect(c.task?.attempt).toBe(1);
    expect(c.params?.num_epochs).toBe(4);
    expect(JSON.parse(c.algModelParams)._alg_model_params).toMatchObject({ tenant: "default", algCode: "logreg", sourceTask: created.name, dataVersion: "2026-10" });
    // Another worker of the queue finds nothing: one task, one holder.
    expect((await claim((await newWorker(w.queue)).name)).task).toBeUndefined();

    const report = { leaseToken: c.leaseToken, metrics: [{ name: "loss", step: 1n, value: 0.9 }], logs: [{ text: "epoch 1" }, { text: "epoch 1 done" }], firstLineNumber: 0n };
    const first = await workers.reportProgress({ ...report, progress: { epoch: 1, totalEpochs: 4, fraction: 0.25 } });
    expect([first.linesRecorded, first.pointsRecorded, first.stopRequested]).toEqual([2, 1, false]);
    const again = await workers.reportProgress(report);
    expect([again.linesRecorded, again.pointsRecorded]).toEqual([0, 0]);
    const got = (await tasks.getTask({ name: created.name })).task!;
    expect(got.progress?.epoch).toBe(1);
    expect(got.metrics).toEqual({ loss: 0.9 });
    const logs = await tasks.listTaskLogs({ name: created.name });
    expect(logs.lines.map((l) => l.text)).toEqual(["epoch 1", "epoch 1 done"]);
  });

  it("stops on request, resumes from a chosen epoch without using up an attempt, finishes, and registers a version that leads back", async () => {
    const w = await newWorker();
    const task = await newTask(w.queue);
    let c = await claim(w.name);
    await checkpoint(c.leaseToken, 0);
    await checkpoint(c.leaseToken, 1);
    expect((await tasks.stopTask({ name: task.name })).task?.state).toBe(TaskState.STOPPING);
    expect((await workers.reportProgress({ leaseToken: c.leaseToken })).stopRequested).toBe(true);
    const stopped = (await workers.completeTask({ leaseToken: c.leaseToken, state: TaskState.STOPPED })).task!;
    expect(stopped.state).toBe(TaskState.STOPPED);
    expect(stopped.resumeCheckpoint).toBe(`${task.name}/checkpoints/1`);
    expect((await failure(workers.reportProgress({ leaseToken: c.leaseToken }))).reason).toBe("LEASE_LOST");
    expect((await failure(tasks.resumeTask({ name: task.name, epoch: 7 }))).reason).toBe("NO_CHECKPOINT");

    await tasks.resumeTask({ name: task.name, epoch: 0, params: { num_epochs: 6 } });
    c = await claim(w.name);
    expect(c.task?.attempt).toBe(2);
    expect(c.params?.num_epochs).toBe(6);
    expect(c.resumeFrom?.epoch).toBe(0);
    const resumeFile = c.resumeFrom!.files[0]!;
    expect((await request(new URL(resumeFile.downloadUrl, t.url).toString())).status).toBe(200);
    await checkpoint(c.leaseToken, 5);
    const done = (await workers.completeTask({ leaseToken: c.leaseToken, state: TaskState.SUCCEEDED, result: { accuracy: 0.97 } })).task!;
    expect(done.state).toBe(TaskState.SUCCEEDED);
    expect(done.result).toEqual({ accuracy: 0.97 });

    const { version } = await tasks.registerTaskOutput({ name: task.name });
    expect(version?.state).toBe(2);
    expect(version?.lineage?.sourceTask).toBe(task.name);
    expect(version?.lineage?.dataVersion).toBe("2026-10");
    expect(version?.fileCount).toBe(1n);
    const found = await t.client.versions.listVersions({ parent: "workspaces/default/models/-", filter: `source_task = "${task.name}"` });
    expect(found.versions.map((v) => v.name)).toEqual([version!.name]);
    expect((await tasks.getTask({ name: task.name })).task?.outputVersions).toEqual([version!.name]);
  });

  it("gives a task whose worker stopped reporting to another worker, which resumes from the last committed checkpoint; FAILED after the last attempt", async () => {
    const w1 = await newWorker();
    const w2 = await newWorker(w1.queue);
    const task = await newTask(w1.queue, { maxAttempts: 2 });
    const first = await claim(w1.name);
    await checkpoint(first.leaseToken, 3);
    // w1 dies: no more reports. The lease runs out and the sweep queues it again.
    const second = await claim(w2.name, 10);
    expect(second.task?.name).toBe(task.name);
    expect(second.task?.attempt).toBe(2);
    expect(second.resumeFrom?.epoch).toBe(3);
    // The first worker's token no longer writes anything.
    expect((await failure(workers.reportProgress({ leaseToken: first.leaseToken, logs: [{ text: "late" }] }))).reason).toBe("LEASE_LOST");
    // The second dies too: the last attempt is used up.
    await vi.waitFor(async () => expect((await tasks.getTask({ name: task.name })).task?.state).toBe(TaskState.FAILED), { timeout: 20_000, interval: 50 });
    const failed = (await tasks.getTask({ name: task.name })).task!;
    expect(failed.errorMessage).toContain("stopped reporting");
  });

  it("takes a released task back without counting the attempt, from its last checkpoint; a release of a stopping task stops it", async () => {
    const w = await newWorker();
    const task = await newTask(w.queue, { maxAttempts: 1 });
    // Released twice on a task of one attempt: neither counts, so it is still claimed a third time.
    for (let i = 1; i <= 2; i++) {
      const c = await claim(w.name);
      expect(c.task?.attempt).toBe(i);
      if (i === 1) await checkpoint(c.leaseToken, 2);
      const released = (await workers.releaseTask({ leaseToken: c.leaseToken, reason: "node preempted" })).task!;
      expect(released.state).toBe(TaskState.QUEUED);
      expect((await failure(workers.reportProgress({ leaseToken: c.leaseToken }))).reason).toBe("LEASE_LOST");
    }
    const third = await claim(w.name);
    expect(third.task?.attempt).toBe(3);
    expect(third.resumeFrom?.epoch).toBe(2);
    // The one attempt it has is the one a failure uses up.
    expect((await workers.failTask({ leaseToken: third.leaseToken, message: "out of memory", retryable: true })).task?.state).toBe(TaskState.FAILED);
    const released: string[] = [];
    for await (const m of tasks.watchTask({ name: task.name }))
      if (m.kind.case === "event" && m.kind.value.kind.case === "stateChange" && m.kind.value.kind.value.state === TaskState.QUEUED) released.push(m.kind.value.kind.value.message);
    expect(released.slice(1)).toEqual([expect.stringMatching(/^released by worker .*: node preempted; queued again \(this attempt is not counted\)$/), expect.stringMatching(/released by worker/)]);

    const stopping = await newTask(w.queue);
    const s = await claim(w.name);
    await tasks.stopTask({ name: stopping.name });
    expect((await workers.releaseTask({ leaseToken: s.leaseToken })).task?.state).toBe(TaskState.STOPPED);
    const tooLong = await failure(workers.releaseTask({ leaseToken: third.leaseToken, reason: "x".repeat(4001) }));
    expect(tooLong.fieldViolations.map((v) => v.field)).toEqual(["reason"]);
  });

  it("finishes a stop or a cancel of a task whose worker died, and a cancel the worker hears of", async () => {
    const w = await newWorker();
    const stopping = await newTask(w.queue);
    await claim(w.name);
    await tasks.stopTask({ name: stopping.name });
    await vi.waitFor(async () => expect((await tasks.getTask({ name: stopping.name })).task?.state).toBe(TaskState.STOPPED), { timeout: 20_000, interval: 50 });

    const cancelled = await newTask(w.queue);
    const c = await claim(w.name);
    expect((await tasks.cancelTask({ name: cancelled.name })).task?.state).toBe(TaskState.RUNNING);
    expect((await workers.reportProgress({ leaseToken: c.leaseToken })).cancelRequested).toBe(true);
    expect((await workers.failTask({ leaseToken: c.leaseToken, message: "cancelled by request", retryable: true })).task?.state).toBe(TaskState.CANCELLED);

    const dead = await newTask(w.queue);
    await claim(w.name);
    await tasks.cancelTask({ name: dead.name });
    await vi.waitFor(async () => expect((await tasks.getTask({ name: dead.name })).task?.state).toBe(TaskState.CANCELLED), { timeout: 20_000, interval: 50 });
  });

  it("refuses bad reports, completions and claims with a code and a message naming what to fix, and changes nothing", async () => {
    const w = await newWorker();
    const task = await newTask(w.queue);
    const c = await claim(w.name);
    const tooMany = await failure(workers.reportProgress({ leaseToken: c.leaseToken, logs: Array.from({ length: 1001 }, (_, i) => ({ text: `l${i}` })) }));
    expect(tooMany.code).toBe(Code.InvalidArgument);
    expect(tooMany.fieldViolations.map((v) => v.field)).toContain("logs");
    const nan = await failure(workers.reportProgress({ leaseToken: c.leaseToken, metrics: [{ name: "loss", step: 1n, value: Number.NaN }] }));
    expect(nan.fieldViolations.map((v) => v.field)).toEqual(["metrics[0].value"]);
    expect((await failure(workers.completeTask({ leaseToken: c.leaseToken, state: TaskState.STOPPED }))).reason).toBe("NOT_STOPPING");
    expect((await failure(workers.completeTask({ leaseToken: c.leaseToken, state: TaskState.FAILED }))).code).toBe(Code.InvalidArgument);
    expect((await failure(workers.reportProgress({ leaseToken: "nonsense" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(claim("workspaces/default/workers/nobody"))).code).toBe(Code.NotFound);
    expect((await tasks.listTaskLogs({ name: task.name })).lines).toEqual([]);
    expect((await tasks.getTask({ name: task.name })).task?.state).toBe(TaskState.RUNNING);
  });

  it("wakes a waiting claim as soon as a task is queued", async () => {
    const w = await newWorker();
    const waiting = claim(w.name, 30);
    const task = await newTask(w.queue);
    expect((await waiting).task?.name).toBe(task.name);
  });

  it("gives a template's defaults with the batch size fitted to the GPUs given or to a worker's, and lists workers", async () => {
    const gib = 1024 ** 3;
    const gpu = (free: number) => ({ index: 0, name: "test GPU", memoryTotalBytes: BigInt(16 * gib), memoryFreeBytes: BigInt(Math.round(free)) });
    const tight = await tasks.getDefaultParams({ parent: "workspaces/default", type: TaskType.TRAIN, gpus: [gpu(1.2 * gib)] });
    expect(tight.params?.batch_size).toBe(1);
    expect(tight.notes.join(" ")).toContain("batch_size 2 → 1");
    expect(tight.template?.name).toBe("templates/classification");
    const { worker } = await workers.registerWorker({ parent: "workspaces/default", workerId: `big-${++n}`, worker: { queues: ["q"], gpus: [gpu(15 * gib)] } });
    const roomy = await tasks.getDefaultParams({ parent: "workspaces/default", type: TaskType.TRAIN, workers: [worker!.name] });
    expect(roomy.params?.batch_size).toBe(2);
    expect(roomy.notes.join(" ")).toContain("fits");
    expect((await failure(tasks.getDefaultParams({ parent: "workspaces/default", type: TaskType.TRAIN, workers: ["workspaces/default/workers/ghost"] }))).code).toBe(Code.NotFound);
    expect((await failure(tasks.getDefaultParams({ parent: "workspaces/default", type: TaskType.TRAIN, template: "nope" }))).fieldViolations[0]?.field).toBe("task.template");
    const listed = await tasks.listWorkers({ parent: "workspaces/default" });
    expect(listed.workers.map((w) => w.name)).toContain(worker!.name);
    const got = (await tasks.getWorker({ name: worker!.name })).worker!;
    expect([got.online, got.gpus[0]?.memoryFreeBytes]).toEqual([true, BigInt(15 * gib)]);
  });
}
