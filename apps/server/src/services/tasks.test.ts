// TaskService through the real router, on both databases: create (defaults
// filled, params refused field by field, templates, validate_only,
// request_id, generated ids), get, list with filters and pages, update,
// stop, resume, cancel, delete, another workspace's task, templates, and
// the reads of logs, metrics and checkpoints over rows written as a worker
// writes them.
import { Code } from "@connectrpc/connect";
import { Role, TaskState, TaskType } from "@modelreg/proto";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { failure } from "../testing/failure.js";
import { fakeCheckpoint, fakeReport, setTaskState, type TaskClient, taskClient } from "../testing/task-fixtures.js";
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from "../testing/test-app.js";

describeEachDatabase("tasks", (kind) => suite(kind));

function suite(kind: DriverKind) {
  let t: TestApp;
  let tc: TaskClient;
  let outsider: TaskClient;
  const ws = "workspaces/team-t";
  let n = 0;
  const newTask = async (extra: Record<string, unknown> = {}) =>
    (await tc.createTask({ parent: ws, taskId: `t${++n}`, task: { type: TaskType.TRAIN, ...extra } })).task!;

  beforeAll(async () => {
    t = await createTestApp(kind, { auth: true });
    for (const id of ["team-t", "team-u"]) await t.client.workspaces.createWorkspace({ workspaceId: id });
    tc = taskClient(t.app, TEST_ADMIN_TOKEN);
    const key = await t.client.workspaces.createAccessKey({ parent: "workspaces/team-u", accessKey: { user: "intruder", role: Role.ADMIN } });
    outsider = taskClient(t.app, key.token);
  }, 60_000);
  afterAll(async () => t?.close());

  it("creates a task with its template's defaults filled in, under a generated id", async () => {
    const { task } = await tc.createTask({ parent: ws, task: { type: TaskType.TRAIN, params: { num_epochs: 7 }, labels: { team: "risk" } } });
    expect(task!.name).toMatch(/^workspaces\/team-t\/tasks\/train-[0-9a-f]{8}$/);
    expect(task).toMatchObject({ state: TaskState.QUEUED, template: "classification", queue: "default", maxAttempts: 3, attempt: 0, lastSeq: 1n });
    expect(task!.params).toMatchObject({ num_epochs: 7, batch_size: 2, learning_rate: 0.000125, lr_decay_epochs: [2, 3] });
    expect(task!.etag).not.toBe("");
    expect(task!.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await tc.getTask({ name: task!.name })).task).toEqual(task);
  });

  it("refuses unknown params and params of the wrong type, naming each, and an unknown template", async () => {
    const bad = await failure(tc.createTask({ parent: ws, task: { type: TaskType.TRAIN, params: { x: 1, num_epochs: "ten" } } }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(["params.x", "params.num_epochs"]));
    const template = await failure(tc.createTask({ parent: ws, task: { type: TaskType.TRAIN, template: "nope" } }));
    expect(template.fieldViolations).toEqual([expect.objectContaining({ field: "task.template", description: expect.stringContaining("classification") })]);
    expect((await tc.listTasks({ parent: ws, filter: 'labels.bad = "x"' })).tasks).toEqual([]);
  });

  it("with validate_only says what it would create and creates nothing", async () => {
    const { task } = await tc.createTask({ parent: ws, taskId: "dry-run", task: { type: TaskType.TRAIN }, validateOnly: true });
    expect(task).toMatchObject({ name: `${ws}/tasks/dry-run`, state: TaskState.QUEUED });
    expect((await failure(tc.getTask({ name: `${ws}/tasks/dry-run` }))).code).toBe(Code.NotFound);
  });

  it("answers a retried create with the task the first one made, and refuses a taken id", async () => {
    const request = { parent: ws, task: { type: TaskType.EVALUATE, parentTask: (await newTask()).name }, requestId: "req-1" };
    const first = await tc.createTask(request);
    const again = await tc.createTask(request);
    expect(again.task!.uid).toBe(first.task!.uid);
    expect(first.task!.name).toMatch(/\/tasks\/evaluate-[0-9a-f]{8}$/);
    await tc.createTask({ parent: ws, taskId: "taken", task: { type: TaskType.TRAIN } });
    expect((await failure(tc.createTask({ parent: ws, taskId: "taken", task: { type: TaskType.TRAIN } }))).code).toBe(Code.AlreadyExists);
  });

  it("lists with filters on state, type, labels and create_time, in keyset pages", async () => {
    const parent = "workspaces/team-l";
    await t.client.workspaces.createWorkspace({ workspaceId: "team-l" });
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await tc.createTask({ parent, taskId: `l${i}`, task: { type: i < 3 ? TaskType.TRAIN : TaskType.CONVERT, baseVersion: "", parentTask: i < 3 ? "" : `${parent}/tasks/l0`, labels: { n: String(i % 2) } } })).task!);
    await tc.stopTask({ name: made[1]!.name });
    const names = async (filter: string) => (await tc.listTasks({ parent, filter })).tasks.map((x) => x.name.split("/").pop());
    expect(await names("")).toEqual(["l4", "l3", "l2", "l1", "l0"]);
    expect(await names("state = STOPPED")).toEqual(["l1"]);
    expect(await names("type = CONVERT")).toEqual(["l4", "l3"]);
    expect(await names('labels.n = "1" AND type = TRAIN')).toEqual(["l1"]);
    const since = made[2]!.createTime!;
    const iso = new Date(Number(since.seconds) * 1000 + since.nanos / 1e6).toISOString();
    expect(await names(`create_time >= "${iso}"`)).toEqual(["l4", "l3", "l2"]);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await tc.listTasks({ parent, pageSize: 2, pageToken, orderBy: "create_time asc" });
      expect(page.tasks.length).toBeLessThanOrEqual(2);
      seen.push(...page.tasks.map((x) => x.name.split("/").pop()!));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(["l0", "l1", "l2", "l3", "l4"]);
  });

  it("updates with the etag, and refuses params once the task has run", async () => {
    const task = await newTask();
    const { task: updated } = await tc.updateTask({ task: { name: task.name, etag: task.etag, description: "longer", params: { num_epochs: 9 } }, updateMask: { paths: ["description", "params"] } });
    expect(updated).toMatchObject({ description: "longer" });
    expect(updated!.params).toMatchObject({ num_epochs: 9, batch_size: 2 });
    const stale = await failure(tc.updateTask({ task: { name: task.name, etag: task.etag, description: "x" }, updateMask: { paths: ["description"] } }));
    expect(stale.code).toBe(Code.Aborted);
    await setTaskState(t.database.db, task.name, TaskState.RUNNING);
    const ran = await failure(tc.updateTask({ task: { name: task.name, params: { num_epochs: 5 } }, updateMask: { paths: ["params"] } }));
    expect(ran).toMatchObject({ code: Code.FailedPrecondition, reason: "TASK_STARTED" });
    await tc.updateTask({ task: { name: task.name, labels: { still: "fine" } }, updateMask: { paths: ["labels"] } });
  });

  it("stops a queued task at once, resumes it from the start, and refuses an epoch without a checkpoint", async () => {
    const task = await newTask();
    const { task: stopped } = await tc.stopTask({ name: task.name });
    expect(stopped).toMatchObject({ state: TaskState.STOPPED, lastSeq: 2n });
    expect(stopped!.endTime).toBeDefined();
    expect((await failure(tc.stopTask({ name: task.name }))).code).toBe(Code.FailedPrecondition);
    const noEpoch = await failure(tc.resumeTask({ name: task.name, epoch: 3 }));
    expect(noEpoch).toMatchObject({ code: Code.FailedPrecondition, reason: "NO_CHECKPOINT" });
    const { task: resumed } = await tc.resumeTask({ name: task.name, params: { num_epochs: 12 } });
    expect(resumed).toMatchObject({ state: TaskState.QUEUED, resumeCheckpoint: "", lastSeq: 3n });
    expect(resumed!.params).toMatchObject({ num_epochs: 12 });
    expect(resumed!.endTime).toBeUndefined();
    expect((await failure(tc.resumeTask({ name: task.name }))).code).toBe(Code.FailedPrecondition);
  });

  it("resumes from a committed checkpoint, the latest or the one asked for", async () => {
    const task = await newTask();
    await tc.stopTask({ name: task.name });
    for (const epoch of [1, 2]) await fakeCheckpoint(t.database.db, task.name, epoch, { committed: true });
    await fakeCheckpoint(t.database.db, task.name, 3, { committed: false });
    expect((await tc.resumeTask({ name: task.name, epoch: 1 })).task!.resumeCheckpoint).toBe(`${task.name}/checkpoints/1`);
    await tc.stopTask({ name: task.name });
    expect((await tc.resumeTask({ name: task.name })).task!.resumeCheckpoint).toBe(`${task.name}/checkpoints/2`);
  });

  it("cancels, and deletes only a task no worker holds", async () => {
    const task = await newTask();
    expect((await tc.cancelTask({ name: task.name })).task!.state).toBe(TaskState.CANCELLED);
    expect((await failure(tc.cancelTask({ name: task.name }))).code).toBe(Code.FailedPrecondition);
    const held = await newTask();
    await setTaskState(t.database.db, held.name, TaskState.RUNNING);
    expect((await failure(tc.deleteTask({ name: held.name }))).reason).toBe("TASK_RUNNING");
    const cancelling = (await tc.cancelTask({ name: held.name })).task!;
    expect(cancelling.state).toBe(TaskState.RUNNING);
    expect((await failure(tc.deleteTask({ name: task.name, etag: "stale" }))).code).toBe(Code.Aborted);
    await tc.deleteTask({ name: task.name });
    expect((await failure(tc.getTask({ name: task.name }))).code).toBe(Code.NotFound);
  });

  it("hides another workspace's task: NOT_FOUND for every call", async () => {
    const task = await newTask();
    for (const call of [
      () => outsider.getTask({ name: task.name }),
      () => outsider.stopTask({ name: task.name }),
      () => outsider.deleteTask({ name: task.name }),
      () => outsider.listTaskLogs({ name: task.name }),
      () => outsider.listTaskMetrics({ name: task.name }),
      () => outsider.listTaskCheckpoints({ name: task.name }),
      () => outsider.updateTask({ task: { name: task.name, description: "x" }, updateMask: { paths: ["description"] } }),
    ])
      expect((await failure(call())).code).toBe(Code.NotFound);
    expect((await failure(outsider.listTasks({ parent: ws }))).code).toBe(Code.NotFound);
    expect((await tc.getTask({ name: task.name })).task!.state).toBe(TaskState.QUEUED);
  });

  it("creates, lists and deletes a workspace's own template, which tasks then use", async () => {
    const schema = { type: "object", additionalProperties: false, properties: { depth: { type: "integer", default: 6, description: "Tree depth." } } };
    const { template } = await tc.createParamTemplate({ parent: ws, template: { templateId: "xgb", types: [TaskType.TRAIN], schema, description: "boosted trees" } });
    expect(template).toMatchObject({ name: `${ws}/templates/xgb`, templateId: "xgb", builtIn: false, types: [TaskType.TRAIN] });
    const listed = (await tc.listParamTemplates({ parent: ws, type: TaskType.TRAIN })).templates;
    expect(listed.map((x) => x.templateId)).toEqual(["classification", "detection", "segmentation", "xgb"]);
    expect(listed[0]).toMatchObject({ builtIn: true, name: "templates/classification" });
    const task = await newTask({ template: "xgb", params: { depth: 3 } });
    expect(task.params).toEqual({ depth: 3 });
    await tc.deleteParamTemplate({ name: `${ws}/templates/xgb` });
    expect((await failure(tc.deleteParamTemplate({ name: `${ws}/templates/xgb` }))).code).toBe(Code.NotFound);
    expect((await tc.getTask({ name: task.name })).task!.params).toEqual({ depth: 3 });
  });

  it("reads logs after a sequence number in pages, and the tail, with the lines dropped", async () => {
    const task = await newTask();
    await fakeReport(t.database.db, task.name, { logs: ["a", "b", "c"] });
    await fakeReport(t.database.db, task.name, { metrics: [{ name: "loss", step: 1, value: 1 }], logs: ["d", "e"] });
    const texts = (r: { lines: { text: string }[] }) => r.lines.map((l) => l.text);
    const first = await tc.listTaskLogs({ name: task.name, pageSize: 2 });
    expect(texts(first)).toEqual(["a", "b"]);
    const second = await tc.listTaskLogs({ name: task.name, pageSize: 2, pageToken: first.nextPageToken });
    expect(texts(second)).toEqual(["c", "d"]);
    const third = await tc.listTaskLogs({ name: task.name, pageSize: 2, pageToken: second.nextPageToken });
    expect(texts(third)).toEqual(["e"]);
    expect(third.nextPageToken).toBe("");
    // Seqs: 1 created, 2-4 a-c, 5 metrics, 6-7 d-e.
    expect(second.lines.map((l) => l.seq)).toEqual([4n, 6n]);
    expect(texts(await tc.listTaskLogs({ name: task.name, afterSeq: 4n }))).toEqual(["d", "e"]);
    // The tail's lines are the paged read's last ones, every field alike.
    const tail = await tc.listTaskLogs({ name: task.name, tail: 3 });
    expect(texts(tail)).toEqual(["c", "d", "e"]);
    expect(tail.lines).toEqual((await tc.listTaskLogs({ name: task.name })).lines.slice(-3));
    expect(texts(await tc.listTaskLogs({ name: task.name, tail: 10_000 }))).toEqual(["a", "b", "c", "d", "e"]);
    // A task with no lines has an empty tail; one that does not exist has none.
    expect((await tc.listTaskLogs({ name: (await newTask()).name, tail: 5 })).lines).toEqual([]);
    expect((await failure(tc.listTaskLogs({ name: "workspaces/default/tasks/no-such-task", tail: 5 }))).code).toBe(Code.NotFound);
    expect((await tc.listTaskLogs({ name: task.name })).droppedLines).toBe(0n);
    const both = await failure(tc.listTaskLogs({ name: task.name, tail: 3, afterSeq: 2n }));
    expect(both.fieldViolations.map((v) => v.field)).toEqual(["tail"]);
  });

  it("reads metric series by name, downsampled with the first and last points kept", async () => {
    const task = await newTask();
    for (let r = 0; r < 5; r++)
      await fakeReport(t.database.db, task.name, {
        metrics: Array.from({ length: 100 }, (_, i) => r * 100 + i).flatMap((step) => [
          { name: "loss", step, value: 10 / (step + 1) },
          { name: "acc", step, value: step / 500 },
        ]),
      });
    const { series } = await tc.listTaskMetrics({ name: task.name, maxPoints: 50 });
    expect(series.map((s) => [s.name, s.totalPoints, s.points.length])).toEqual([
      ["acc", 500n, 50],
      ["loss", 500n, 50],
    ]);
    const loss = series[1]!.points;
    expect([loss[0]!.step, loss.at(-1)!.step]).toEqual([0n, 499n]);
    expect(loss[0]!.value).toBe(10);
    const only = await tc.listTaskMetrics({ name: task.name, metricNames: ["loss"] });
    expect(only.series.map((s) => [s.name, s.points.length])).toEqual([["loss", 500]]);
    expect((await failure(tc.listTaskMetrics({ name: task.name, maxPoints: 1 }))).fieldViolations[0]!.field).toBe("max_points");
  });

  it("reduces a long series in the database first, keeping its ends and a lone spike", async () => {
    const task = await newTask();
    await fakeReport(t.database.db, task.name, { metrics: [{ name: "long", step: 0, value: 0 }] });
    // 60,000 more points of one report, past what is downsampled in memory.
    await t.database.db.execute(sql`
      INSERT INTO task_metrics (task_id, name, step, value, epoch, seq, time)
      SELECT t.id, 'long', s, CASE WHEN s = 31337 THEN 100 ELSE sin(s / 1000.0) END, 0, t.last_seq, now()
      FROM tasks t, generate_series(1, 60000) s WHERE t.workspace = 'team-t' AND t.task_id = ${task.name.split("/").pop()!}`);
    const [long] = (await tc.listTaskMetrics({ name: task.name, maxPoints: 200 })).series;
    expect(long).toMatchObject({ name: "long", totalPoints: 60001n });
    expect(long!.points).toHaveLength(200);
    expect([long!.points[0]!.step, long!.points.at(-1)!.step]).toEqual([0n, 60000n]);
    expect(long!.points.find((p) => p.step === 31337n)?.value).toBe(100);
  });

  it("lists checkpoints by epoch with their files, pending ones when asked", async () => {
    const task = await newTask();
    const sha = "ab".repeat(32);
    await fakeCheckpoint(t.database.db, task.name, 2, { committed: true, files: [{ path: "w.bin", size: 10, sha256: sha }, { path: "opt.bin", size: 5, sha256: sha }] });
    await fakeCheckpoint(t.database.db, task.name, 1, { committed: true });
    await fakeCheckpoint(t.database.db, task.name, 3, { committed: false });
    const { checkpoints } = await tc.listTaskCheckpoints({ name: task.name });
    expect(checkpoints.map((c) => [c.name, c.epoch, c.state])).toEqual([
      [`${task.name}/checkpoints/1`, 1, 2],
      [`${task.name}/checkpoints/2`, 2, 2],
    ]);
    expect(checkpoints[1]).toMatchObject({ fileCount: 2, totalSizeBytes: 15n, metrics: { accuracy: 0.52 } });
    expect(checkpoints[1]!.files.map((f) => [f.path, f.sizeBytes])).toEqual([
      ["opt.bin", 5n],
      ["w.bin", 10n],
    ]);
    expect((await tc.listTaskCheckpoints({ name: task.name, includePending: true })).checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3]);
  });
}
