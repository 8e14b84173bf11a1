// The two training examples against a real server process, on both
// databases, each run as a user runs it: the TypeScript worker
// (examples/training-worker) as its own Node process, the Python script
// under `modelreg worker` (the CLI process). Each trains, is stopped
// (StopTask) at a known epoch, resumes (ResumeTask) in a second worker
// process from the checkpoint it saved, finishes, and registers a version
// whose lineage leads back to the task. The first attempt runs behind a
// gate (test/fixtures) that waits, before one checkpoint, for the stop the
// test sends, so the stop never races a training that takes milliseconds.
// Everything is seeded: the weights must be those of a training that never
// stopped (exactly for the TypeScript run, computed here with the same
// code; to rounding for Python, whose exp may differ in the last bit).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createEmptyPostgres, describeEachDatabase } from "@modelreg/db/testing";
import { createRegistryClient, type RegistryClient, Role, type Task, TaskState } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { accuracy, initialState, learningRateAt, logLoss, makeDataset, trainEpoch } from "../examples/training-worker/src/logreg.js";
import { type Child, startChild } from "./support/child.js";
import { REPO_ROOT, type ServerProcess, startServer, tempDir } from "./support/server.js";
import { until } from "./support/until.js";

const CLI = join(REPO_ROOT, "apps/cli/dist/modelreg.mjs");
const PARAMS = { num_epochs: 6, learning_rate: 0.05, batch_size: 32, lr_decay_epochs: [4, 5] };
const GATE_EPOCH = 2;
const python = spawnSync("python3", ["--version"]).status === 0;
const noPython = python ? "" : " (skipped: python3 is not on PATH)";

/** What the examples must reach: the same training with no stop, here in-process. */
function reference() {
  const { train, test } = makeDataset();
  const state = initialState(2);
  const losses: number[] = [];
  for (let epoch = 0; epoch < PARAMS.num_epochs; epoch++) {
    const learningRate = learningRateAt(epoch, { learningRate: PARAMS.learning_rate, decayEpochs: PARAMS.lr_decay_epochs, gamma: 0.1 });
    trainEpoch(state, train, { learningRate, batchSize: PARAMS.batch_size, epoch });
    losses.push(logLoss(state.model, train));
  }
  return { model: state.model, losses, accuracy: accuracy(state.model, test) };
}

describeEachDatabase("the training examples", (backend) => {
  const dir = tempDir();
  const config = tempDir("modelreg-examples-config-");
  let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
  let server: ServerProcess;
  let admin: RegistryClient;
  let workerKey = "";
  const children: Child[] = [];
  const expected = reference();

  beforeAll(async () => {
    db = backend === "postgres" ? await createEmptyPostgres() : undefined;
    // Workers report every 2 s (a sixth of the lease), so a stop reaches them within that.
    server = await startServer({ databaseUrl: db?.url, dataDir: dir.path, env: { TASK_LEASE_SECONDS: "12" } });
    admin = createRegistryClient({ baseUrl: server.url });
    await admin.models.createModel({ parent: "workspaces/default", modelId: "logreg" });
    // The workers run with a key that may do nothing but a worker's calls.
    const key = await admin.workspaces.createAccessKey({ parent: "workspaces/default", accessKey: { user: "example-trainer", role: Role.WORKER } });
    workerKey = key.token;
  });
  afterAll(async () => {
    for (const c of children) await c.stop("SIGKILL");
    await server?.stop();
    await db?.drop();
    dir.remove();
    config.remove();
  });

  const workerEnv = (queue: string, workerId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    MODELREG_SERVER: server.url,
    MODELREG_ACCESS_KEY: workerKey,
    MODELREG_CONFIG_DIR: config.path,
    MODELREG_QUEUE: queue,
    MODELREG_WORKER_ID: workerId,
    ...extra,
  });
  const run = (command: string, args: string[], env: NodeJS.ProcessEnv) => {
    const child = startChild(command, args, { cwd: REPO_ROOT, env });
    children.push(child);
    return child;
  };
  const tsWorker = (script: string, env: NodeJS.ProcessEnv) => run(process.execPath, ["--conditions=@modelreg/source", "--import", "tsx", script], env);
  const cliWorker = (queue: string, id: string, script: string, env: NodeJS.ProcessEnv) =>
    run(process.execPath, [CLI, "worker", "--queue", queue, "--id", id, "--type", "train", "--", "python3", script], env);

  /** A gated first attempt stopped at GATE_EPOCH: the task is STOPPED with the checkpoints up to it, and the worker has exited. */
  async function stopAtGate(task: Task, first: Child): Promise<void> {
    await until(() => first.said(`gate: waiting before the checkpoint of epoch ${GATE_EPOCH}`), `the first worker at its gate:\n${first.lines.join("\n")}`);
    await admin.tasks.stopTask({ name: task.name });
    const stopped = await admin.waitForTask(task.name);
    expect(stopped.state, `the first worker:\n${first.lines.join("\n")}`).toBe(TaskState.STOPPED);
    expect(stopped.resumeCheckpoint).toBe(`${task.name}/checkpoints/${GATE_EPOCH}`);
    expect(await epochsOf(task)).toEqual([0, 1, 2]);
    expect((await first.stop("SIGTERM")).code).toBe(0);
  }

  const epochsOf = async (task: Task) => (await admin.tasks.listTaskCheckpoints({ name: task.name })).checkpoints.map((c) => c.epoch);

  /** What every finished run must show: states, losses, checkpoints, the resume, the version and its lineage. */
  async function checkFinished(task: Task, done: Task, digits: number | undefined) {
    expect(done.state).toBe(TaskState.SUCCEEDED);
    const states: string[] = [];
    for await (const item of admin.followTask(task.name, { excludeLogs: true })) {
      if (item.case === "event" && item.value.kind.case === "stateChange") states.push(TaskState[item.value.kind.value.state]);
    }
    expect(states).toEqual(["QUEUED", "RUNNING", "STOPPING", "STOPPED", "QUEUED", "RUNNING", "SUCCEEDED"]);
    expect(done.attempt).toBe(2);

    const [loss] = (await admin.tasks.listTaskMetrics({ name: task.name, metricNames: ["loss"] })).series;
    const losses = loss!.points.map((p) => p.value);
    expect(loss!.points.map((p) => Number(p.step))).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!);
    const same = (got: number, want: number): void => {
      if (digits === undefined) expect(got).toBe(want);
      else expect(got).toBeCloseTo(want, digits);
    };
    for (const [i, l] of losses.entries()) same(l, expected.losses[i]!);
    expect(await epochsOf(task)).toEqual([0, 1, 2, 3, 4, 5]);

    const logs = (await admin.tasks.listTaskLogs({ name: task.name, pageSize: 1000 })).lines.map((l) => l.text);
    expect(logs).toContain(`resuming from the checkpoint of epoch ${GATE_EPOCH}`);
    expect(logs.filter((l) => /^epoch \d+: loss/.test(l))).toHaveLength(6);

    expect(done.outputVersions).toHaveLength(1);
    const version = (await admin.versions.getVersion({ ref: { case: "name", value: done.outputVersions[0]! } })).version!;
    expect(version.lineage).toMatchObject({ sourceTask: task.name, dataVersion: "seed-20260101", trainingAlgorithmCode: "logreg", trainingAlgorithmVersion: "1.0.0" });
    same(version.metrics.loss!, expected.losses[5]!);
    const found = await admin.versions.listVersions({ parent: "workspaces/default/models/logreg", filter: `source_task = "${task.name}"` });
    expect(found.versions.map((v) => v.name)).toEqual([version.name]);
    const weights = JSON.parse(Buffer.from(await admin.downloadBytes(version.name, "weights.json")).toString()) as { w: number[]; b: number; epoch: number };
    expect(weights.epoch).toBe(5);
    const want = [...expected.model.w, expected.model.b];
    for (const [i, v] of [...weights.w, weights.b].entries()) same(v, want[i]!);
  }

  const submit = (queue: string) =>
    admin.submitTask({ type: "TRAIN", model: "logreg", params: PARAMS, task: { queue, dataVersion: "seed-20260101", algorithmCode: "logreg", algorithmVersion: "1.0.0" } });

  it("TypeScript worker: trains, is stopped, resumes from its checkpoint in another worker, finishes, and its version leads back to the task", async () => {
    const task = await submit("ts-train");
    const first = tsWorker("test/fixtures/gated-training-worker.ts", workerEnv("ts-train", "ts-gated", { GATE_EPOCH: String(GATE_EPOCH) }));
    await stopAtGate(task, first);

    await admin.tasks.resumeTask({ name: task.name });
    const second = tsWorker("examples/training-worker/src/main.ts", workerEnv("ts-train", "ts-example"));
    const done = await admin.waitForTask(task.name);
    expect(second.said("resuming from the checkpoint of epoch 2"), second.lines.join("\n")).toBe(true);
    expect(done.result).toEqual({ version: done.outputVersions[0], weights: { w: expected.model.w, b: expected.model.b } });
    expect(done.metrics).toMatchObject({ loss: expected.losses[5], accuracy: expected.accuracy });
    await checkFinished(task, done, undefined);
    expect((await second.stop("SIGTERM")).code).toBe(0);
  });

  it.skipIf(!python)(`Python script under modelreg worker: the same, through the line protocol${noPython}`, async () => {
    const task = await submit("py-train");
    const gated = join(REPO_ROOT, "test/fixtures/gated_train.py");
    const first = cliWorker("py-train", "py-gated", gated, workerEnv("py-train", "py-gated", { GATE_EPOCH: String(GATE_EPOCH) }));
    await stopAtGate(task, first);

    await admin.tasks.resumeTask({ name: task.name });
    const second = cliWorker("py-train", "py-example", join(REPO_ROOT, "examples/python-worker/train.py"), workerEnv("py-train", "py-example"));
    const done = await admin.waitForTask(task.name);
    expect(second.said("resuming from the checkpoint of epoch 2"), second.lines.join("\n")).toBe(true);
    // The script's result file.
    expect(done.result).toMatchObject({ metrics: { loss: expect.closeTo(expected.losses[5]!, 10) } });
    await checkFinished(task, done, 10);
    await second.stop("SIGTERM");
  });
});
