// `modelreg worker -- <command>` end to end, on both databases: run()
// against the real server on loopback, running a real node program per
// task that speaks the line protocol: progress, metrics, a checkpoint and a
// version, output files and a result; a stop reaching the program as
// SIGTERM; exit codes deciding retries.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describeEachDatabase } from "@modelreg/db/testing";
import { TaskState } from "@modelreg/sdk";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";
import { run } from "./run.js";

/** The program the worker runs: what it does depends on its argument. */
const PROGRAM = String.raw`
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
const env = process.env;
const mode = process.argv[2];
const replies = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const reply = async () => (await replies.next()).value;
if (mode === "train") {
  const params = JSON.parse(readFileSync(env.MODELREG_PARAMS_FILE, "utf8"));
  const alg = JSON.parse(env._alg_model_params)._alg_model_params;
  console.log("params num_epochs=" + params.num_epochs + " env=" + JSON.parse(env.MODELREG_PARAMS).num_epochs + " task=" + env.MODELREG_TASK + " alg-task=" + alg.sourceTask);
  console.log('::progress epoch=1 total_epochs=2 fraction=0.5 message="epoch 1 of 2"');
  console.log("::metric name=loss value=0.5 step=1 epoch=1");
  console.log("::metric name=loss value=oops step=2");
  console.log("::metric name=accuracy value=0.8 epoch=1");
  const ckpt = join(env.MODELREG_TASK_DIR, "ckpt", "1");
  mkdirSync(ckpt, { recursive: true });
  writeFileSync(join(ckpt, "weights.bin"), "weights of epoch 1");
  console.log("::checkpoint dir=" + ckpt + " epoch=1 metric.accuracy=0.8");
  console.error("reply: " + (await reply()));
  console.log('::register epoch=1 version=1.0.0 description="from the worker"');
  console.error("reply: " + (await reply()));
  console.log("::checkpoint dir=./no-such-dir epoch=2");
  console.error("reply: " + (await reply()));
  writeFileSync(join(env.MODELREG_OUTPUT_DIR, "predictions.txt"), "cat\ndog\n");
  writeFileSync(env.MODELREG_RESULT_FILE, JSON.stringify({ accuracy: 0.8 }));
  console.log("done");
  process.exit(0);
}
if (mode === "hang") {
  if (env.MODELREG_RESUME_DIR) {
    const saved = readFileSync(join(env.MODELREG_RESUME_DIR, "state.txt"), "utf8");
    console.log("resumed epoch=" + env.MODELREG_RESUME_EPOCH + " state=" + saved);
    process.exit(0);
  }
  process.on("SIGTERM", async () => {
    console.log("got SIGTERM");
    const ckpt = join(env.MODELREG_TASK_DIR, "stop");
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, "state.txt"), "saved at the stop");
    console.log("::checkpoint dir=" + ckpt + " epoch=3");
    console.log("saved: " + (await reply()));
    process.exit(0);
  });
  console.log("started");
  setInterval(() => {}, 1000);
}
if (mode === "predict") {
  const inputs = readdirSync(env.MODELREG_INPUT_DIR).sort();
  const base = readFileSync(join(env.MODELREG_BASE_DIR, "model.txt"), "utf8");
  for (const f of inputs) writeFileSync(join(env.MODELREG_OUTPUT_DIR, f + ".label"), base + ":" + readFileSync(join(env.MODELREG_INPUT_DIR, f), "utf8"));
  console.log("predicted " + inputs.join(","));
  process.exit(0);
}
if (mode === "exit") {
  console.error("giving up with " + process.argv[3]);
  process.exit(Number(process.argv[3]));
}
`;

describeEachDatabase("modelreg worker", (kind) => {
  let server: TestServer;
  let cwd: string;
  let program: string;
  beforeAll(async () => {
    // A shorter lease than the default 30 s: the worker reports every 2 s, so a stop reaches it sooner.
    server = await startTestServer(kind, { taskLeaseMs: 12_000 });
    cwd = await mkdtemp(join(tmpdir(), "cli-worker-"));
    program = join(cwd, "program.mjs");
    await writeFile(program, PROGRAM);
    await mkdir(join(cwd, "work"));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  async function cli(...argv: string[]) {
    return runCli(["--server", server.url, ...argv], bufferIo({ PATH: process.env.PATH }, { cwd }));
  }
  async function ok(...argv: string[]) {
    return expectOk(argv, await cli(...argv));
  }

  /** Starts `modelreg worker` on `queue` running the program in `mode`; stop() ends it and resolves its exit and stderr. */
  function worker(queue: string, ...programArgs: string[]) {
    const b = bufferIo({ PATH: process.env.PATH }, { cwd });
    const stopper = new AbortController();
    const argv = ["--server", server.url, "worker", "--queue", queue, "--id", `w-${queue}`, "--no-gpus", "--work-dir", "work", "--grace", "20s", "--", process.execPath, program, ...programArgs];
    const exited = run(argv, b.io, { signal: stopper.signal });
    return {
      get stderr() {
        return b.stderr;
      },
      async stop() {
        stopper.abort(new Error("test over"));
        return { code: await exited, stderr: b.stderr };
      },
    };
  }

  const logsOf = async (task: string) => (await server.client.tasks.listTaskLogs({ name: `workspaces/default/tasks/${task}` })).lines.map((l) => l.text);
  const waitForTask = (task: string) => server.client.waitForTask(task, { timeoutMs: 60_000 });

  it("runs the program: progress, metrics, a checkpoint and a version from its lines, logs, outputs and result", async () => {
    await ok("models", "create", "fraud");
    await ok("tasks", "create", "--type", "train", "--id", "t-train", "--queue", "q-train", "--model", "fraud", "--set", "num_epochs=5");
    const w = worker("q-train", "train");
    const task = await waitForTask("t-train");
    const stopped = await w.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(task.state, task.errorMessage).toBe(TaskState.SUCCEEDED);
    expect(task.metrics).toEqual({ loss: 0.5, accuracy: 0.8 });
    expect(task.progress).toMatchObject({ epoch: 1, totalEpochs: 2, fraction: 0.5, message: "epoch 1 of 2" });
    expect(task.result).toEqual({ accuracy: 0.8 });
    expect(task.outputFiles.map((f) => [f.path, f.sizeBytes])).toEqual([["predictions.txt", 8n]]);

    const logs = await logsOf("t-train");
    expect(logs[0]).toBe("params num_epochs=5 env=5 task=workspaces/default/tasks/t-train alg-task=workspaces/default/tasks/t-train");
    // Requests are not logged; a line that does not parse is, with why.
    expect(logs.filter((l) => l.startsWith("::"))).toEqual(["::metric name=loss value=oops step=2"]);
    expect(logs).toContain("modelreg worker: ignored the line above: ::metric: value=oops is not a finite number");
    expect(logs).toContain("reply: ::ok checkpoint epoch=1 name=workspaces/default/tasks/t-train/checkpoints/1");
    expect(logs).toContain("reply: ::ok register epoch=1 version=workspaces/default/models/fraud/versions/1.0.0");
    expect(logs.find((l) => l.startsWith("reply: ::error checkpoint epoch=2 message="))).toBeDefined();
    expect(logs.at(-1)).toBe("done");
    // The program's lines on the worker's stderr, task id first.
    expect(stopped.stderr).toContain("[t-train] done\n");

    const checkpoints = (await ok("tasks", "checkpoints", "t-train", "-o", "json")).json();
    expect(checkpoints).toEqual([expect.objectContaining({ epoch: 1, state: "CHECKPOINT_STATE_COMMITTED", fileCount: 1, metrics: { accuracy: 0.8 } })]);
    const byWorker = (await ok("versions", "get", "fraud:1.0.0", "-o", "json")).json();
    expect(byWorker).toMatchObject({ state: "VERSION_STATE_READY", description: "from the worker", lineage: { sourceTask: "workspaces/default/tasks/t-train" } });
    const registered = (await ok("tasks", "register", "t-train", "--epoch", "1", "--model", "fraud:1.1.0", "-o", "json")).json();
    expect(registered).toMatchObject({ name: "workspaces/default/models/fraud/versions/1.1.0", state: "VERSION_STATE_READY", manifestDigest: byWorker.manifestDigest, metrics: { accuracy: 0.8 } });
    expect(registered.lineage.sourceTask).toBe("workspaces/default/tasks/t-train");
    // Every task directory is gone once the worker stopped.
    expect(await readdir(join(cwd, "work"))).toEqual([]);
  });

  it("sends SIGTERM to the program on a stop: it saves a checkpoint, the task ends STOPPED, and resumes from it", async () => {
    await ok("tasks", "create", "--type", "train", "--id", "t-stop", "--queue", "q-stop");
    const w = worker("q-stop", "hang");
    await until(async () => (await logsOf("t-stop")).includes("started"));
    expect((await ok("tasks", "stop", "t-stop")).stdout).toMatch(/^State:\s+stopping$/m);
    const stopped = await waitForTask("t-stop");
    expect(stopped).toMatchObject({ state: TaskState.STOPPED, attempt: 1 });
    expect(await logsOf("t-stop")).toEqual(["started", "got SIGTERM", "saved: ::ok checkpoint epoch=3 name=workspaces/default/tasks/t-stop/checkpoints/3"]);
    expect((await ok("tasks", "checkpoints", "t-stop")).stdout).toMatch(/^3\s+committed\s+1\s+17 B\s/m);

    expect((await ok("tasks", "resume", "t-stop")).stdout).toMatch(/^Resume from:\s+workspaces\/default\/tasks\/t-stop\/checkpoints\/3$/m);
    const resumed = await waitForTask("t-stop");
    expect(resumed.state, resumed.errorMessage).toBe(TaskState.SUCCEEDED);
    expect((await logsOf("t-stop")).at(-1)).toBe("resumed epoch=3 state=saved at the stop");
    expect((await w.stop()).code).toBe(0);
  });

  it("fails a task whose program exits 2 for good, and retries one that exits 1 while attempts remain", async () => {
    await ok("tasks", "create", "--type", "train", "--id", "t-exit2", "--queue", "q-exit2", "--max-attempts", "3");
    const w2 = worker("q-exit2", "exit", "2");
    const two = await waitForTask("t-exit2");
    await w2.stop();
    expect(two).toMatchObject({ state: TaskState.FAILED, attempt: 1 });
    expect(two.errorMessage).toContain("exited with code 2: giving up with 2");

    await ok("tasks", "create", "--type", "train", "--id", "t-exit1", "--queue", "q-exit1", "--max-attempts", "2");
    const w1 = worker("q-exit1", "exit", "1");
    const one = await waitForTask("t-exit1");
    await w1.stop();
    expect(one).toMatchObject({ state: TaskState.FAILED, attempt: 2 });
    expect((await logsOf("t-exit1")).filter((l) => l === "giving up with 1")).toHaveLength(2);
  });

  it("uploads the input files of a predict task, hands them and the base version to the program, and keeps its outputs", async () => {
    await mkdir(join(cwd, "base"));
    await writeFile(join(cwd, "base", "model.txt"), "m1");
    await ok("models", "create", "classifier");
    await ok("push", "base", "classifier:1.0.0");
    await mkdir(join(cwd, "images"));
    await writeFile(join(cwd, "images", "a.jpg"), "cat");
    await writeFile(join(cwd, "images", "b.jpg"), "dog");
    const made = (await ok("tasks", "create", "--type", "predict", "--id", "t-predict", "--queue", "q-predict", "--base-version", "classifier:1.0.0", "--input", "images", "-o", "json")).json();
    expect(made).toMatchObject({ state: "TASK_STATE_QUEUED", inputFiles: [expect.objectContaining({ path: "a.jpg", sizeBytes: "3" }), expect.objectContaining({ path: "b.jpg" })] });
    const w = worker("q-predict", "predict");
    const task = await waitForTask("t-predict");
    await w.stop();
    expect(task.state, task.errorMessage).toBe(TaskState.SUCCEEDED);
    expect(task.outputFiles.map((f) => [f.path, Number(f.sizeBytes)])).toEqual([["a.jpg.label", 6], ["b.jpg.label", 6]]);
    expect(await logsOf("t-predict")).toEqual(["predicted a.jpg,b.jpg"]);
  });

  it("as its own process, on SIGTERM: the program gets SIGTERM, its task goes back to the queue (the attempt not counted), the worker exits 0", async () => {
    // One attempt: were the worker's own stop counted, the task would end FAILED.
    await ok("tasks", "create", "--type", "train", "--id", "t-term", "--queue", "q-term", "--max-attempts", "1");
    // The CLI from its sources (not the bundle), as its own process.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const argv = ["--conditions=@modelreg/source", "--import", tsx, join(import.meta.dirname, "main.ts"), "--server", server.url, "worker", "--queue", "q-term", "--no-gpus", "--work-dir", "work", "--", process.execPath, program, "hang"];
    const child = spawn(process.execPath, argv, { cwd, env: { ...process.env, MODELREG_ACCESS_KEY: "", MODELREG_CONFIG_DIR: join(cwd, "config") }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
    await until(async () => (await logsOf("t-term")).includes("started"));
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    const task = (await server.client.tasks.getTask({ name: "workspaces/default/tasks/t-term" })).task!;
    expect(task).toMatchObject({ state: TaskState.QUEUED, attempt: 1, worker: "" });
    expect(await logsOf("t-term")).toEqual(["started", "got SIGTERM", "saved: ::ok checkpoint epoch=3 name=workspaces/default/tasks/t-term/checkpoints/3"]);
    expect(stderr).toContain("stopping: running tasks get SIGTERM and go back to their queue");
    await ok("tasks", "cancel", "t-term");
  });

  it("refuses a program it cannot run before taking any task (exit 2)", async () => {
    const r = await cli("worker", "--queue", "q-none", "--", "./no-such-program");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot run ./no-such-program: not an executable file");
  });
});

/** Polls until `condition` holds: a wait for a state, never for a time (the bound only catches a hang). */
async function until(condition: () => Promise<boolean>, boundMs = 60_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("gave up waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
