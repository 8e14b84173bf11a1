// The worker runtime and the task helpers against a real server, on both
// databases: a worker trains (logs, a metric and a checkpoint per epoch),
// is stopped (it saves and returns), is resumed and continues from
// ctx.resumeFrom, finishes, and registers a version whose lineage leads
// back to the task; a late watcher sees every transition in order, and a
// watch broken by the network picks up with no gap and no repeat. Reports
// whose answer or request is cut are sent again and recorded once; a
// PREDICT task's inputs go up with submitTask and its outputs come back;
// handler errors fail the task, retried unless they say not.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tasks as tasksTable } from "@modelreg/db";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { TaskState, type Version } from "@modelreg/proto";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRegistryClient, type RegistryClient } from "../client.js";
import type { TaskWatchItem } from "../tasks/follow.js";
import { newVersion, patterned, tempDir } from "../testing/fixtures.js";
import { startFlakyProxy } from "../testing/flaky-proxy.js";
import { type TaskAbortError, TaskError } from "./errors.js";
import type { TaskContext, TaskHandler } from "./types.js";

describeEachDatabase("runWorker and the task helpers", (kind) => suite(kind));

async function collect(items: AsyncIterable<TaskWatchItem>): Promise<TaskWatchItem[]> {
  const out: TaskWatchItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}
const events = (items: TaskWatchItem[]) => items.flatMap((i) => (i.case === "event" ? [i.value] : []));
const seqsOf = (items: TaskWatchItem[]) => events(items).map((e) => e.seq);
const statesOf = (items: TaskWatchItem[]) => events(items).flatMap((e) => (e.kind.case === "stateChange" ? [TaskState[e.kind.value.state]] : []));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const aborted = (signal: AbortSignal) => new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));

function suite(kind: DriverKind) {
  let server: TestServer;
  let client: RegistryClient;
  let tmp: { path: string; remove(): Promise<void> };
  let trained = "";
  const errors: string[] = [];
  const onError = (_err: unknown, what: string) => void errors.push(what);
  beforeAll(async () => {
    // Reports every second (a sixth of the lease): a stop reaches the handler within one.
    server = await startTestServer(kind, { taskLeaseMs: 6000 });
    client = server.client;
    tmp = await tempDir(`sdk-worker-${kind}`);
    await client.models.createModel({ parent: "workspaces/default", modelId: "lr" });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  /** Logistic regression in spirit: one weight that grows by one per epoch, saved as the checkpoint's state. */
  function trainer(stopAtEpoch: number) {
    const runs: { resumeEpoch: number | undefined; w0: number; epochs: number[]; abort: string }[] = [];
    const atStopPoint = deferred();
    let version: Version | undefined;
    const handler: TaskHandler = async (ctx: TaskContext) => {
      const run = { resumeEpoch: ctx.resumeFrom?.epoch, w0: 0, epochs: [] as number[], abort: "" };
      runs.push(run);
      const dir = join(tmp.path, `${ctx.task.name.split("/").pop()}-${runs.length}`);
      let w = 0;
      if (ctx.resumeFrom) {
        const got = await ctx.downloadResume(join(dir, "resume"));
        w = JSON.parse(await readFile(join(dir, "resume", "state.json"), "utf8")).w;
        ctx.log(`resuming from epoch ${ctx.resumeFrom.epoch} (${got.length} files)`);
      }
      run.w0 = w;
      const n = Number(ctx.params.num_epochs);
      for (let epoch = (ctx.resumeFrom?.epoch ?? -1) + 1; epoch < n; epoch++) {
        w += 1;
        ctx.log(`epoch ${epoch}: loss ${1 / (epoch + 1)}`);
        ctx.metric("loss", 1 / (epoch + 1), epoch, epoch);
        ctx.progress({ epoch: epoch + 1, totalEpochs: n, fraction: (epoch + 1) / n, message: `epoch ${epoch}` });
        const ck = join(dir, `epoch-${epoch}`);
        await mkdir(ck, { recursive: true });
        await writeFile(join(ck, "state.json"), JSON.stringify({ w, epoch }));
        await writeFile(join(ck, "weights.bin"), patterned(4096, w));
        await ctx.saveCheckpoint(ck, epoch, { loss: 1 / (epoch + 1) });
        run.epochs.push(epoch);
        if (runs.length === 1 && epoch === stopAtEpoch) {
          atStopPoint.resolve();
          // The test asks for the stop now; it reaches the handler with a report's answer.
          await aborted(ctx.signal);
        }
        if (ctx.signal.aborted) {
          run.abort = (ctx.signal.reason as TaskAbortError).kind;
          return;
        }
      }
      version = await ctx.registerVersion({ epoch: n - 1, version: { description: "trained by the SDK test" } });
      return { result: { w }, metrics: { final_loss: 1 / n } };
    };
    return { handler, runs, atStopPoint: atStopPoint.promise, version: () => version };
  }

  it("trains, is stopped, resumes from its checkpoint, finishes, and registers a version that leads back to the task", async () => {
    const queue = "train";
    const t = trainer(1);
    const task = await client.submitTask({
      type: "TRAIN",
      model: "lr",
      params: { num_epochs: 4 },
      task: { queue, dataVersion: "2026-10", algorithmCode: "logreg", algorithmVersion: "1.0.0" },
    });
    expect(task.state).toBe(TaskState.QUEUED);
    const worker = client.runWorker({ queues: [queue], workerId: "trainer-1", handler: t.handler, onError });
    expect((await worker.registered).queues).toEqual([queue]);
    await t.atStopPoint;
    await client.tasks.stopTask({ name: task.name });
    const stopped = await client.waitForTask(task.name);
    expect(stopped.state).toBe(TaskState.STOPPED);
    expect(stopped.resumeCheckpoint).toBe(`${task.name}/checkpoints/1`);

    await client.tasks.resumeTask({ name: task.name });
    const done = await client.waitForTask(task.name);
    expect(done.state).toBe(TaskState.SUCCEEDED);
    expect(done.result).toEqual({ w: 4 });
    expect(done.metrics).toMatchObject({ loss: 0.25, final_loss: 0.25 });
    expect(t.runs).toEqual([
      { resumeEpoch: undefined, w0: 0, epochs: [0, 1], abort: "stop" },
      { resumeEpoch: 1, w0: 2, epochs: [2, 3], abort: "" },
    ]);

    const version = (await client.versions.getVersion({ ref: { case: "name", value: t.version()!.name } })).version!;
    expect(version.lineage).toMatchObject({ sourceTask: task.name, dataVersion: "2026-10", trainingAlgorithmCode: "logreg", trainingAlgorithmVersion: "1.0.0" });
    expect(done.outputVersions).toEqual([version.name]);
    expect(JSON.parse(Buffer.from(await client.downloadBytes(version.name, "state.json")).toString())).toEqual({ w: 4, epoch: 3 });

    const logs = (await client.tasks.listTaskLogs({ name: task.name, pageSize: 1000 })).lines.map((l) => l.text);
    expect(logs).toEqual(["epoch 0: loss 1", "epoch 1: loss 0.5", "resuming from epoch 1 (2 files)", "epoch 2: loss 0.3333333333333333", "epoch 3: loss 0.25"]);
    const [loss] = (await client.tasks.listTaskMetrics({ name: task.name, metricNames: ["loss"] })).series;
    expect(loss!.points.map((p) => [Number(p.step), p.value])).toEqual([[0, 1], [1, 0.5], [2, 1 / 3], [3, 0.25]]);
    const checkpoints = (await client.tasks.listTaskCheckpoints({ name: task.name })).checkpoints;
    expect(checkpoints.map((c) => c.epoch)).toEqual([0, 1, 2, 3]);

    await worker.stop();
    expect(errors).toEqual([]);
    trained = task.name;
  }, 120_000);

  it("shows a late watcher every transition in order, and picks up a broken watch with no gap and no repeat", async () => {
    expect(trained).not.toBe("");
    const direct = await collect(client.followTask(trained));
    expect(direct[0]!.case).toBe("task");
    expect(direct.filter((i) => i.case === "task")).toHaveLength(1);
    expect(statesOf(direct)).toEqual(["QUEUED", "RUNNING", "STOPPING", "STOPPED", "QUEUED", "RUNNING", "SUCCEEDED"]);
    const seqs = seqsOf(direct);
    expect(seqs).toEqual([...seqs].sort((a, b) => Number(a - b)));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Each epoch's metric point comes before its checkpoint.
    const order = events(direct).flatMap((e) =>
      e.kind.case === "metrics" ? e.kind.value.points.map((p) => `m${p.step}`) : e.kind.case === "checkpoint" ? [`c${e.kind.value.epoch}`] : [],
    );
    expect(order).toEqual(["m0", "c0", "m1", "c1", "m2", "c2", "m3", "c3"]);

    // From the middle: exactly what came after.
    const mid = seqs[Math.floor(seqs.length / 2)]!;
    expect(seqsOf(await collect(client.followTask(trained, { afterSeq: mid })))).toEqual(seqs.filter((s) => s > mid));

    // Through a proxy that cuts the stream twice part-way.
    const proxy = await startFlakyProxy(server.url);
    try {
      proxy.arm({ direction: "down", afterBytes: 1500, mode: "cut", times: 2 });
      const retried: unknown[] = [];
      const viaProxy = createRegistryClient({ baseUrl: proxy.url, accessKey: "" });
      const broken = await collect(viaProxy.followTask(trained, { retry: { onRetry: (r) => retried.push(r.error) } }));
      expect(proxy.faults).toBe(2);
      expect(retried).toHaveLength(2);
      expect(broken.filter((i) => i.case === "task")).toHaveLength(1);
      expect(events(broken)).toEqual(events(direct));
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("sends a report again when its answer or its request is cut, and records it once", async () => {
    const queue = "flaky";
    const proxy = await startFlakyProxy(server.url);
    try {
      const viaProxy = createRegistryClient({ baseUrl: proxy.url, accessKey: "" });
      const retries: string[] = [];
      const handler: TaskHandler = async (ctx) => {
        // More than one report holds: sent as several, numbered on.
        ctx.log(Array.from({ length: 2500 }, (_, i) => `bulk ${i}`).join("\n"));
        for (let epoch = 0; epoch < 4; epoch++) {
          for (let i = 0; i < 25; i++) ctx.log(`epoch ${epoch} line ${i}`);
          ctx.metric("acc", epoch / 4, epoch, epoch);
          // Epoch 1's report reaches the server but its answer is lost; epoch 2's never arrives.
          if (epoch === 1) proxy.arm({ direction: "down", afterBytes: 0, mode: "cut" });
          if (epoch === 2) proxy.arm({ direction: "up", afterBytes: 0, mode: "cut" });
          await ctx.flush();
        }
        return { result: { ok: true } };
      };
      const task = await client.submitTask({ type: "TRAIN", task: { queue } });
      const worker = viaProxy.runWorker({ queues: [queue], workerId: "flaky-1", handler, onError: (_e, what) => void retries.push(what) });
      const done = await client.waitForTask(task.name);
      await worker.stop();
      expect(done.state).toBe(TaskState.SUCCEEDED);
      expect(proxy.faults).toBe(2);
      expect(retries.filter((r) => r.includes("a report failed; retrying"))).toHaveLength(2);
      const logs: string[] = [];
      for (let pageToken = "", first = true; first || pageToken; first = false) {
        const page = await client.tasks.listTaskLogs({ name: task.name, pageSize: 1000, pageToken });
        logs.push(...page.lines.map((l) => l.text));
        pageToken = page.nextPageToken;
      }
      const bulk = Array.from({ length: 2500 }, (_, i) => `bulk ${i}`);
      expect(logs).toEqual([...bulk, ...Array.from({ length: 100 }, (_, i) => `epoch ${Math.floor(i / 25)} line ${i % 25}`)]);
      const [acc] = (await client.tasks.listTaskMetrics({ name: task.name, metricNames: ["acc"] })).series;
      expect(acc!.points.map((p) => Number(p.step))).toEqual([0, 1, 2, 3]);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it("uploads a PREDICT task's inputs, hands them and the base version to the worker, and records its outputs", async () => {
    const queue = "predict";
    const inputs = join(tmp.path, "inputs");
    await mkdir(join(inputs, "more"), { recursive: true });
    await writeFile(join(inputs, "a.bin"), patterned(10_000, 501));
    await writeFile(join(inputs, "more", "b.bin"), patterned(20_000, 502));
    const model = join(tmp.path, "model.bin");
    await writeFile(model, patterned(5_000, 503));
    const base = await newVersion(client);
    await client.uploadFile(base, model);
    const task = await client.submitTask({ type: "PREDICT", baseVersion: base, inputDir: inputs, task: { queue } });
    expect(task.state).toBe(TaskState.QUEUED);
    expect(task.inputFiles.map((f) => f.path)).toEqual(["a.bin", "more/b.bin"]);

    const handler: TaskHandler = async (ctx) => {
      const dir = join(tmp.path, "predict-work");
      const got = await ctx.downloadInputs(join(dir, "in"));
      const weights = await ctx.downloadBase(join(dir, "base"));
      const out = join(dir, "out");
      await mkdir(out, { recursive: true });
      for (const f of got) await writeFile(join(out, `${f.path.replace("/", "_")}.json`), JSON.stringify({ size: f.sizeBytes }));
      return { outputDir: out, result: { inputs: got.length, base: weights.map((w) => w.path) } };
    };
    const worker = client.runWorker({ queues: [queue], workerId: "predictor-1", handler, onError });
    const done = await client.waitForTask(task.name);
    await worker.stop();
    expect(done.state).toBe(TaskState.SUCCEEDED);
    expect(done.result).toEqual({ inputs: 2, base: ["model.bin"] });
    expect(done.outputFiles.map((f) => f.path)).toEqual(["a.bin.json", "more_b.bin.json"]);
  }, 60_000);

  it("fails a task whose handler throws: retried while attempts remain, at once when the error says not", async () => {
    const queue = "failing";
    const calls: string[] = [];
    const handler: TaskHandler = async (ctx) => {
      calls.push(ctx.task.name.split("/").pop()!);
      if (ctx.params.learning_rate === 0.5) throw new TaskError("the data is unusable", { retryable: false });
      throw new Error("flaky GPU");
    };
    const retried = await client.submitTask({ type: "TRAIN", taskId: "fails-twice", task: { queue, maxAttempts: 2 } });
    const final = await client.submitTask({ type: "TRAIN", taskId: "fails-once", params: { learning_rate: 0.5 }, task: { queue, maxAttempts: 3 } });
    const worker = client.runWorker({ queues: [queue], workerId: "failing-1", handler, onError });
    const [a, b] = await Promise.all([client.waitForTask(retried.name), client.waitForTask(final.name)]);
    await worker.stop();
    expect([a.state, a.errorMessage, a.attempt]).toEqual([TaskState.FAILED, "flaky GPU", 2]);
    expect([b.state, b.errorMessage, b.attempt]).toEqual([TaskState.FAILED, "the data is unusable", 1]);
    expect(calls.sort()).toEqual(["fails-once", "fails-twice", "fails-twice"]);
    const logs = (await client.tasks.listTaskLogs({ name: retried.name, pageSize: 100 })).lines;
    expect(logs.some((l) => l.stream === "stderr" && l.text.startsWith("Error: flaky GPU"))).toBe(true);
  }, 60_000);

  it("releases its task when stopped mid-run: queued again, the attempt not counted", async () => {
    const running = deferred();
    const handler: TaskHandler = async (ctx) => {
      running.resolve();
      await aborted(ctx.signal);
    };
    // One attempt: a shutdown that counted it would leave the task FAILED.
    const task = await client.submitTask({ type: "TRAIN", taskId: "preempted", task: { queue: "preempted", maxAttempts: 1 } });
    const worker = client.runWorker({ queues: ["preempted"], workerId: "spot-1", handler, onError });
    await running.promise;
    await worker.stop();
    const after = (await client.tasks.getTask({ name: task.name })).task!;
    expect([after.state, after.attempt, after.worker]).toEqual([TaskState.QUEUED, 1, ""]);
    await client.tasks.cancelTask({ name: task.name });
  }, 60_000);

  it("ends the handler without completing when the lease is lost to another worker", async () => {
    const queue = "lost";
    const running = deferred();
    const ended = deferred();
    const seen: string[] = [];
    const handler: TaskHandler = async (ctx) => {
      running.resolve();
      await aborted(ctx.signal);
      seen.push((ctx.signal.reason as TaskAbortError).kind);
      ended.resolve();
      return { result: { finished: true } };
    };
    const task = await client.submitTask({ type: "TRAIN", taskId: "lost-lease", task: { queue } });
    const lost: string[] = [];
    const worker = client.runWorker({ queues: [queue], workerId: "loser-1", handler, onError: (_e, what) => void lost.push(what) });
    await running.promise;
    // Another attempt holds the task now (as after a sweep and a claim elsewhere): this worker's token is stale.
    await server.database.db.update(tasksTable).set({ leaseToken: "taken-over" }).where(eq(tasksTable.taskId, "lost-lease"));
    // The next report (within a second) is refused, which ends the handler.
    await ended.promise;
    await worker.stop();
    expect(seen).toEqual(["lease-lost"]);
    expect(lost).toContain(`task ${task.name}: lease lost`);
    // Nothing was completed over the attempt that took over (which the server may have swept back to the queue by now).
    const now = (await client.tasks.getTask({ name: task.name })).task!;
    expect([TaskState.RUNNING, TaskState.QUEUED]).toContain(now.state);
    expect(now.result).toBeUndefined();
  }, 60_000);
}
