// `modelreg tasks ...` end to end, on both databases: run() against the
// real server on loopback; what a worker reports is sent with the worker
// RPCs themselves (the `modelreg worker` command has its own suite).
import { describeEachDatabase } from "@modelreg/db/testing";
import { TaskState } from "@modelreg/sdk";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bufferIo } from "./io.js";
import { expectOk, runCli } from "./testing/cli-run.js";

describeEachDatabase("tasks commands", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  }, 120_000);
  afterAll(async () => server?.close());

  async function cli(...argv: string[]) {
    return cliWith({}, ...argv);
  }
  async function cliWith(options: { tty?: boolean }, ...argv: string[]) {
    return runCli(["--server", server.url, ...argv], bufferIo({}, options));
  }
  async function ok(...argv: string[]) {
    return expectOk(argv, await cli(...argv));
  }

  /** Claims the task waiting on `queue` as a worker would; returns its lease token. */
  async function claim(queue: string): Promise<string> {
    const workers = server.client.taskWorkers;
    await workers.registerWorker({ parent: "workspaces/default", workerId: `w-${queue}`, worker: { queues: [queue] } });
    const res = await workers.claimTask({ worker: `workspaces/default/workers/w-${queue}`, waitSeconds: 10 });
    expect(res.task, `a task on ${queue}`).toBeDefined();
    return res.leaseToken;
  }

  async function report(leaseToken: string, first: number, lines: string[], points: { name: string; step: number; value: number }[] = []) {
    await server.client.taskWorkers.reportProgress({
      leaseToken,
      progress: { epoch: 1, totalEpochs: 2, fraction: 0.5, message: "half way" },
      metrics: points.map((p) => ({ name: p.name, step: BigInt(p.step), value: p.value, epoch: p.step })),
      logs: lines.map((text) => ({ text, stream: "stdout" })),
      firstLineNumber: BigInt(first),
    });
  }

  it("creates a task with --set over the template's defaults and shows it", async () => {
    const made = (
      await ok("tasks", "create", "--type", "train", "--id", "t-set", "--set", "num_epochs=20", "--set", "lr_decay_epochs=[2,3]", "--set", "learning_rate=0.01", "--label", "team=risk", "--queue", "q-create", "-o", "json")
    ).json();
    expect(made).toMatchObject({ name: "workspaces/default/tasks/t-set", type: "TASK_TYPE_TRAIN", state: "TASK_STATE_QUEUED", queue: "q-create", labels: { team: "risk" } });
    expect(made.params).toMatchObject({ num_epochs: 20, lr_decay_epochs: [2, 3], learning_rate: 0.01, batch_size: 2 });
    const shown = (await ok("tasks", "get", "t-set")).stdout;
    expect(shown).toMatch(/^State:\s+queued$/m);
    expect(shown).toMatch(/^Type:\s+train$/m);
    expect(shown).toMatch(/^\s+num_epochs=20$/m);
    expect(shown).toMatch(/^\s+lr_decay_epochs=\[2,3\]$/m);
    expect(shown).toMatch(/^Attempt:\s+0 of 3$/m);
  });

  it("refuses params that do not fit, naming each field (exit 13), and an unknown type (exit 2)", async () => {
    const bad = await cli("tasks", "create", "--type", "train", "--set", "nope=1", "--set", "num_epochs=ten");
    expect(bad.code).toBe(13);
    expect(bad.stderr).toMatch(/^error: invalid request:$/m);
    expect(bad.stderr).toMatch(/^ {2}params\.nope: /m);
    expect(bad.stderr).toMatch(/^ {2}params\.num_epochs: /m);
    const type = await cli("tasks", "create", "--type", "fit");
    expect(type.code).toBe(2);
    expect(type.stderr).toContain("expected one of train, evaluate, prune-analysis, prune-train, predict, convert");
    const twice = await cli("tasks", "create", "--type", "train", "--set", "a=1", "--set", "a=2");
    expect([twice.code, twice.stderr]).toEqual([2, expect.stringContaining("--set a is given more than once")]);
    expect((await ok("tasks", "list", "-o", "json")).json().map((t: { name: string }) => t.name)).toEqual(["workspaces/default/tasks/t-set"]);
  });

  it("with --validate-only prints the task it would create and creates nothing", async () => {
    const r = await ok("tasks", "create", "--type", "train", "--id", "dry", "--validate-only");
    expect(r.stdout).toMatch(/^Name:\s+workspaces\/default\/tasks\/dry$/m);
    expect(r.stderr).toContain("nothing was");
    expect((await cli("tasks", "get", "dry")).code).toBe(15);
  });

  it("lists with --state, --type and --filter", async () => {
    await ok("tasks", "create", "--type", "evaluate", "--id", "t-eval", "--parent-task", "t-set", "--queue", "q-create");
    const table = (await ok("tasks", "list")).stdout.trimEnd().split("\n");
    expect(table[0]).toMatch(/^TASK\s+TYPE\s+STATE\s+PROGRESS\s+METRICS\s+QUEUE\s+CREATED$/);
    expect(table.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ["t-eval", "evaluate", "queued"],
      ["t-set", "train", "queued"],
    ]);
    const names = async (...flags: string[]) => (await ok("tasks", "list", ...flags, "-o", "json")).json().map((t: { name: string }) => t.name.split("/").pop());
    expect(await names("--type", "evaluate")).toEqual(["t-eval"]);
    expect(await names("--state", "queued", "--filter", 'labels.team = "risk"')).toEqual(["t-set"]);
    expect(await names("--queue", "q-create", "--limit", "1")).toEqual(["t-eval"]);
    const none = await ok("tasks", "list", "--state", "failed");
    expect([none.stdout, none.stderr]).toEqual(["", "no tasks in workspace default matching state = FAILED\n"]);
  });

  it("updates, stops, resumes with changed params, cancels and deletes", async () => {
    await ok("tasks", "create", "--type", "train", "--id", "t-life", "--queue", "q-life");
    const updated = (await ok("tasks", "update", "t-life", "--set", "num_epochs=9", "--description", "nine", "-o", "json")).json();
    expect(updated).toMatchObject({ description: "nine", params: { num_epochs: 9, batch_size: 2 } });
    expect((await cli("tasks", "update", "t-life")).code).toBe(2);
    expect((await ok("tasks", "stop", "t-life")).stdout).toMatch(/^State:\s+stopped$/m);
    const stopAgain = await cli("tasks", "stop", "t-life");
    expect(stopAgain.code).toBe(19);
    const resumed = (await ok("tasks", "resume", "t-life", "--set", "num_epochs=30", "-o", "json")).json();
    expect(resumed).toMatchObject({ state: "TASK_STATE_QUEUED", params: { num_epochs: 30 } });
    expect((await ok("tasks", "cancel", "t-life")).stdout).toMatch(/^State:\s+cancelled$/m);
    expect((await cli("tasks", "resume", "t-life", "--epoch", "3")).code).toBe(19);
    expect((await ok("tasks", "delete", "workspaces/default/tasks/t-life")).stdout).toBe("deleted task workspaces/default/tasks/t-life\n");
    const gone = await cli("tasks", "get", "t-life");
    expect(gone.code).toBe(15);
    expect((await cli("tasks", "get", "a/b")).code).toBe(2);
  });

  it("prints default params as JSON for --params-file, and lists the templates", async () => {
    const params = (await ok("tasks", "params", "--type", "train")).json();
    expect(params).toMatchObject({ batch_size: 2, num_epochs: 4, learning_rate: 0.000125, lr_decay_epochs: [2, 3] });
    const whole = (await ok("tasks", "params", "--type", "train", "--template", "detection", "-o", "json")).json();
    expect(whole.template).toMatchObject({ templateId: "detection", builtIn: true });
    expect(whole.params).toBeTypeOf("object");
    const templates = (await ok("tasks", "templates", "--type", "train")).stdout;
    expect(templates).toMatch(/^TEMPLATE\s+TYPES\s+BUILT-IN\s+DESCRIPTION$/m);
    for (const t of ["classification", "detection", "segmentation"]) expect(templates).toMatch(new RegExp(`^${t}\\s+train`, "m"));
  });

  it("prints logs (all, --tail, -f until the task ends), metrics, and watches it to the end", async () => {
    await ok("tasks", "create", "--type", "train", "--id", "t-logs", "--queue", "q-logs");
    const lease = await claim("q-logs");
    await report(lease, 0, ["line 1", "line 2", "line 3"], [{ name: "loss", step: 1, value: 0.9 }, { name: "accuracy", step: 1, value: 0.4 }]);
    await report(lease, 3, ["line 4", "line 5"], [{ name: "loss", step: 2, value: 0.5 }]);
    expect((await ok("tasks", "logs", "t-logs", "--tail", "2")).stdout).toBe("line 4\nline 5\n");
    expect((await ok("tasks", "logs", "t-logs")).stdout).toBe("line 1\nline 2\nline 3\nline 4\nline 5\n");
    const asJson = (await ok("tasks", "logs", "t-logs", "--tail", "1", "-o", "json")).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(asJson).toEqual([expect.objectContaining({ text: "line 5", stream: "stdout" })]);

    const latest = (await ok("tasks", "metrics", "t-logs")).stdout.trimEnd().split("\n");
    expect(latest[0]).toMatch(/^METRIC\s+VALUE\s+STEP\s+EPOCH\s+POINTS$/);
    expect(latest.slice(1).map((l) => l.split(/\s+/))).toEqual([
      ["accuracy", "0.4", "1", "1", "1"],
      ["loss", "0.5", "2", "2", "2"],
    ]);
    const series = (await ok("tasks", "metrics", "t-logs", "--name", "loss", "-o", "json")).json();
    expect(series).toEqual([expect.objectContaining({ name: "loss", totalPoints: "2", points: [expect.objectContaining({ step: "1", value: 0.9 }), expect.objectContaining({ step: "2", value: 0.5 })] })]);
    expect((await ok("tasks", "get", "t-logs")).stdout).toMatch(/^Progress:\s+50% epoch 1\/2: half way$/m);

    // Followers started before the end; the task ends while (or before) they look.
    const following = cli("tasks", "logs", "t-logs", "-f");
    const watching = cli("tasks", "watch", "t-logs");
    const watchingJson = cli("tasks", "watch", "t-logs", "-o", "json");
    await report(lease, 5, ["line 6"]);
    await server.client.taskWorkers.completeTask({ leaseToken: lease, state: TaskState.SUCCEEDED });
    const followed = await following;
    expect([followed.code, followed.stdout]).toEqual([0, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n"]);
    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/succeeded/);
    for (const l of ["line 1", "line 6"]) expect(watched.stdout).toContain(`log: ${l}\n`);
    const messages = (await watchingJson).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(messages[0].task).toMatchObject({ name: "workspaces/default/tasks/t-logs" });
    const states = messages.filter((m) => m.event?.stateChange).map((m) => m.event.stateChange.state);
    expect(states).toEqual(["TASK_STATE_QUEUED", "TASK_STATE_RUNNING", "TASK_STATE_SUCCEEDED"]);
    expect(messages.flatMap((m) => m.event?.logs?.lines ?? []).map((l: { text: string }) => l.text)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5", "line 6"]);
  });

  it("watch exits 1 for a task that did not succeed", async () => {
    await ok("tasks", "create", "--type", "train", "--id", "t-gone", "--queue", "q-gone");
    await ok("tasks", "cancel", "t-gone");
    const r = await cli("tasks", "watch", "t-gone");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^task t-gone {2}train {2}cancelled/m);
    expect(r.stderr).toContain("error: task workspaces/default/tasks/t-gone ended cancelled");
    // On a terminal: the view, drawn, then drawn again in place (cursor up, clear) when the watch ends.
    const tty = await cliWith({ tty: true }, "tasks", "watch", "t-gone");
    expect(tty.code).toBe(1);
    const frame = "task t-gone  train  cancelled  attempt 0/3\n[..............................]    -  -\n";
    expect(tty.stdout).toBe(`${frame}\x1b[2F\x1b[0J${frame}`);
  });
});
