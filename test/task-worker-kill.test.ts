// A worker killed with kill -9 in the middle of a task, on both databases:
// its lease runs out (the server runs with TASK_LEASE_SECONDS=2), the task
// goes back to QUEUED with the attempt counted and the latest committed
// checkpoint to resume from, and another worker process finishes it from
// there. The killed worker is the TypeScript example behind a gate
// (test/fixtures/gated-training-worker.ts) that holds its lease before the
// checkpoint of epoch 2, so the kill lands after epochs 0 and 1 are
// committed and before the training could end; the one that finishes is
// the example itself (examples/training-worker).
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient, Role, TaskState } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { initialState, learningRateAt, makeDataset, trainEpoch } from "../examples/training-worker/src/logreg.js";
import { type Child, startChild } from "./support/child.js";
import { REPO_ROOT, type ServerProcess, startServer, tempDir } from "./support/server.js";
import { until } from "./support/until.js";

const PARAMS = { num_epochs: 6, learning_rate: 0.05, batch_size: 32, lr_decay_epochs: [4, 5] };

describeEachDatabase("a worker killed mid-task", (backend) => {
  const dir = tempDir();
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  let server: ServerProcess;
  let admin: RegistryClient;
  let workerKey = "";
  const children: Child[] = [];

  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    server = await startServer({ databaseUrl: db?.url, dataDir: dir.path, env: { TASK_LEASE_SECONDS: "2" } });
    admin = createRegistryClient({ baseUrl: server.url });
    await admin.models.createModel({ parent: "workspaces/default", modelId: "logreg" });
    workerKey = (await admin.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: "trainer", role: Role.WORKER } })).token;
  });
  afterAll(async () => {
    for (const c of children) await c.stop("SIGKILL");
    await server?.stop();
    await db?.drop();
    dir.remove();
  });

  const worker = (script: string, id: string, extra: Record<string, string> = {}) => {
    const env = { ...process.env, MODELREG_SERVER: server.url, MODELREG_ACCESS_KEY: workerKey, MODELREG_QUEUE: "kill", MODELREG_WORKER_ID: id, ...extra };
    const child = startChild(process.execPath, ["--conditions=@modelreg/source", "--import", "tsx", script], { cwd: REPO_ROOT, env });
    children.push(child);
    return child;
  };

  it("loses its lease, and another worker finishes the task from the last committed checkpoint", async () => {
    const task = await admin.submitTask({ type: "TRAIN", model: "logreg", params: PARAMS, task: { queue: "kill", maxAttempts: 3 } });
    const doomed = worker("test/fixtures/gated-training-worker.ts", "doomed", { GATE_EPOCH: "2" });
    await until(() => doomed.said("gate: waiting before the checkpoint of epoch 2"), `the first worker at its gate:\n${doomed.lines.join("\n")}`);
    const running = (await admin.tasks.getTask({ name: task.name })).task!;
    expect([running.state, running.attempt, running.worker]).toEqual([TaskState.RUNNING, 1, "workspaces/default/workers/doomed"]);

    expect((await doomed.stop("SIGKILL")).signal).toBe("SIGKILL");
    // Nothing can be committed after the kill: these are the last.
    const committed = (await admin.tasks.listTaskCheckpoints({ name: task.name })).checkpoints.map((c) => c.epoch);
    expect(committed).toEqual([0, 1]);

    // Back in the queue once the lease runs out, to resume from the last committed checkpoint.
    let requeued = running;
    for await (const item of admin.followTask(task.name, { afterSeq: running.lastSeq, follow: true, excludeLogs: true })) {
      if (item.case === "event" && item.value.kind.case === "stateChange") {
        expect(TaskState[item.value.kind.value.state]).toBe("QUEUED");
        requeued = (await admin.tasks.getTask({ name: task.name })).task!;
        break;
      }
    }
    expect(requeued.state).toBe(TaskState.QUEUED);
    expect(requeued.attempt).toBe(1);
    expect(requeued.resumeCheckpoint).toBe(`${task.name}/checkpoints/1`);

    const rescuer = worker("examples/training-worker/src/main.ts", "rescuer");
    const done = await admin.waitForTask(task.name);
    expect(done.state, rescuer.lines.join("\n")).toBe(TaskState.SUCCEEDED);
    expect(done.attempt).toBe(2);
    expect(rescuer.said("resuming from the checkpoint of epoch 1"), rescuer.lines.join("\n")).toBe(true);
    const logs = (await admin.tasks.listTaskLogs({ name: task.name, pageSize: 1000 })).lines.map((l) => l.text);
    expect(logs.filter((l) => l.startsWith("resuming"))).toEqual(["resuming from the checkpoint of epoch 1"]);
    expect((await admin.tasks.listTaskCheckpoints({ name: task.name })).checkpoints.map((c) => c.epoch)).toEqual([0, 1, 2, 3, 4, 5]);

    // The rescuer went on from epoch 1's weights and momentum: it ends where an unbroken training ends.
    const { train } = makeDataset();
    const state = initialState(2);
    for (let epoch = 0; epoch < PARAMS.num_epochs; epoch++) {
      const learningRate = learningRateAt(epoch, { learningRate: PARAMS.learning_rate, decayEpochs: PARAMS.lr_decay_epochs, gamma: 0.1 });
      trainEpoch(state, train, { learningRate, batchSize: PARAMS.batch_size, epoch });
    }
    expect(done.result).toMatchObject({ weights: { w: state.model.w, b: state.model.b } });
    const version = (await admin.versions.getVersion({ ref: { case: "name", value: done.outputVersions[0]! } })).version!;
    expect(version.lineage?.sourceTask).toBe(task.name);
    expect((await rescuer.stop("SIGTERM")).code).toBe(0);
  });
});
