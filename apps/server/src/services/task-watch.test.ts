// WatchTask through the real router, on both databases: the task first,
// then its events in order, ending at a final state; a reconnect with
// after_seq that neither repeats nor skips; a watcher on another app over
// the same database (another replica) woken by the NOTIFY alone; an app
// without LISTEN that still delivers at its keep-alives; keep-alives; and
// a watch that ends when its caller goes away.
import { Code } from "@connectrpc/connect";
import { Role, type TaskEvent, TaskState, TaskType, type WatchTaskResponse } from "@modelreg/proto";
import { describeEachDatabase, type DriverKind } from "@modelreg/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "../app.js";
import { createTaskContent } from "../domain/files/index.js";
import type { TaskWakeups } from "../domain/ports/task-wakeups.js";
import { createTasksDomain } from "../domain/tasks/index.js";
import { createLogger } from "../logger.js";
import { failure } from "../testing/failure.js";
import { fakeCheckpoint, fakeReport, type TaskClient, taskClient } from "../testing/task-fixtures.js";
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from "../testing/test-app.js";
import { TEST_SIGNING_KEYS } from "../testing/test-store.js";

describeEachDatabase("task watch", (kind) => suite(kind));

type Stream = AsyncIterator<WatchTaskResponse>;

/** The next message, keep-alives skipped. */
async function next(s: Stream): Promise<WatchTaskResponse | undefined> {
  for (;;) {
    const r = await s.next();
    if (r.done) return undefined;
    if (r.value.kind.case !== "keepAlive") return r.value;
  }
}

async function nextEvent(s: Stream): Promise<TaskEvent> {
  const m = await next(s);
  if (m?.kind.case !== "event") throw new Error(`expected an event, got ${m ? m.kind.case : "the end of the stream"}`);
  return m.kind.value;
}

/** Every message left, until the stream ends. */
async function rest(s: Stream): Promise<TaskEvent[]> {
  const out: TaskEvent[] = [];
  for (let m = await next(s); m; m = await next(s)) if (m.kind.case === "event") out.push(m.kind.value);
  return out;
}

/** The sequence numbers an event covers: a logs event, each of its lines'. */
const covered = (e: TaskEvent): bigint[] => (e.kind.case === "logs" ? e.kind.value.lines.map((l) => l.seq) : [e.seq]);
const stateOf = (e: TaskEvent) => (e.kind.case === "stateChange" ? e.kind.value.state : undefined);

function suite(kind: DriverKind) {
  let t: TestApp;
  let tc: TaskClient;
  /** Other apps over the same database, as other replicas: one woken by NOTIFY only, one without LISTEN. */
  const others: App[] = [];
  let n = 0;
  const ws = "workspaces/default";
  const newTask = async () => (await tc.createTask({ parent: ws, taskId: `w${++n}`, task: { type: TaskType.TRAIN } })).task!;
  const watch = (c: TaskClient, req: { name: string; afterSeq?: bigint; follow?: boolean; excludeLogs?: boolean }, signal?: AbortSignal): Stream =>
    c.watchTask(req, { signal })[Symbol.asyncIterator]();
  const replica = (o: { listen: boolean; keepAliveMs: number }) => {
    const app = createApp({
      db: t.database.db,
      logger: createLogger("silent"),
      auth: { enabled: false },
      store: t.store,
      signingKeys: TEST_SIGNING_KEYS,
      listen: o.listen ? t.database.listen : undefined,
      tasks: { watchKeepAliveMs: o.keepAliveMs },
    });
    others.push(app);
    return taskClient(app, "");
  };

  beforeAll(async () => {
    t = await createTestApp(kind, { auth: true });
    tc = taskClient(t.app, TEST_ADMIN_TOKEN);
  }, 60_000);
  afterAll(async () => {
    for (const app of others) {
      await app.wakeups.close();
      await app.md5.stop();
    }
    await t?.close();
  });

  it("sends the task first, then its state changes in order, and ends at a final state", async () => {
    const task = await newTask();
    const s = watch(tc, { name: task.name });
    const first = await next(s);
    expect(first?.kind.case).toBe("task");
    expect(first?.kind.value).toMatchObject({ name: task.name, state: TaskState.QUEUED });
    const created = await nextEvent(s);
    expect(created).toMatchObject({ seq: 1n, kind: { case: "stateChange", value: { state: TaskState.QUEUED, previousState: TaskState.UNSPECIFIED, message: "created" } } });
    await tc.stopTask({ name: task.name });
    const stopped = await nextEvent(s);
    expect(stopped).toMatchObject({ seq: 2n, kind: { case: "stateChange", value: { state: TaskState.STOPPED, previousState: TaskState.QUEUED } } });
    expect(await s.next()).toMatchObject({ done: true });
  });

  it("resumes with after_seq with no gap and no repeat, across logs, metrics and checkpoints", async () => {
    const task = await newTask();
    const db = t.database.db;
    await tc.stopTask({ name: task.name });
    await tc.resumeTask({ name: task.name });
    await fakeReport(db, task.name, { metrics: [{ name: "loss", step: 1, value: 0.9 }, { name: "acc", step: 1, value: 0.4 }], logs: ["l1", "l2", "l3"] });
    await fakeCheckpoint(db, task.name, 1, { committed: true });
    const aborted = new AbortController();
    const a = watch(tc, { name: task.name, follow: true }, aborted.signal);
    expect((await next(a))?.kind.case).toBe("task");
    const seen: TaskEvent[] = [];
    // Up to the metrics (seq 4), then the stream breaks.
    while (seen.at(-1)?.seq !== 4n) seen.push(await nextEvent(a));
    aborted.abort();
    await fakeReport(db, task.name, { logs: ["l4", "l5"] });
    await tc.stopTask({ name: task.name });
    const { task: now } = await tc.getTask({ name: task.name });
    const b = watch(tc, { name: task.name, afterSeq: seen.at(-1)!.seq });
    expect((await next(b))?.kind.case).toBe("task");
    // Ends by itself after STOPPED.
    const after = await rest(b);
    expect(after.map((e) => [e.seq, e.kind.case])).toEqual([
      [7n, "logs"],
      [8n, "checkpoint"],
      [10n, "logs"],
      [11n, "stateChange"],
    ]);
    expect(seen[3]!.kind.value).toMatchObject({ points: [{ name: "acc" }, { name: "loss" }] });
    expect(after[1]!.kind.value).toMatchObject({ name: `${task.name}/checkpoints/1`, epoch: 1 });
    expect(stateOf(after[3]!)).toBe(TaskState.STOPPED);
    const all = [...seen, ...after].flatMap(covered);
    expect(all).toEqual(Array.from({ length: Number(now!.lastSeq) }, (_, i) => BigInt(i + 1)));
  });

  it("wakes a watcher on another replica by the NOTIFY alone (its keep-alive an hour away)", async () => {
    const other = replica({ listen: true, keepAliveMs: 3_600_000 });
    const task = await newTask();
    const s = watch(other, { name: task.name, follow: true });
    expect((await next(s))?.kind.case).toBe("task");
    expect((await nextEvent(s)).seq).toBe(1n);
    // Nothing more is there now: what comes next is read because a NOTIFY woke it.
    const reported = fakeReport(t.database.db, task.name, { logs: ["from a worker"] });
    const e = await nextEvent(s);
    expect(e).toMatchObject({ seq: 2n, kind: { case: "logs", value: { lines: [{ text: "from a worker", seq: 2n }] } } });
    await reported;
    await tc.cancelTask({ name: task.name });
    expect(stateOf(await nextEvent(s))).toBe(TaskState.CANCELLED);
    // Following: open after the final state, until the caller leaves.
    await s.return?.();
  });

  it("sends keep-alives while nothing happens, and without LISTEN still delivers at each one", async () => {
    const polling = replica({ listen: false, keepAliveMs: 50 });
    const task = await newTask();
    const s = watch(polling, { name: task.name, follow: true });
    const kinds: string[] = [];
    while (kinds.filter((k) => k === "keepAlive").length < 2) kinds.push(((await s.next()).value as WatchTaskResponse).kind.case!);
    expect(kinds.slice(0, 2)).toEqual(["task", "event"]);
    await fakeReport(t.database.db, task.name, { metrics: [{ name: "loss", step: 0, value: 2 }] });
    expect((await nextEvent(s)).kind).toMatchObject({ case: "metrics", value: { points: [{ name: "loss", value: 2 }] } });
    await s.return?.();
  });

  it("leaves logs out when asked, and ends at once for a finished task watched from its last event", async () => {
    const task = await newTask();
    await fakeReport(t.database.db, task.name, { logs: ["x"], metrics: [{ name: "m", step: 1, value: 1 }] });
    const { task: cancelled } = await tc.cancelTask({ name: task.name });
    const events = await rest(watch(tc, { name: task.name, excludeLogs: true }));
    expect(events.map((e) => e.kind.case)).toEqual(["stateChange", "metrics", "stateChange"]);
    const late = watch(tc, { name: task.name, afterSeq: cancelled!.lastSeq });
    expect((await next(late))?.kind.case).toBe("task");
    expect(await late.next()).toMatchObject({ done: true });
  });

  it("refuses a bad after_seq, and another workspace's task is NOT_FOUND", async () => {
    const task = await newTask();
    const bad = await failure(rest(watch(tc, { name: task.name, afterSeq: -1n })));
    expect(bad.fieldViolations.map((v) => v.field)).toEqual(["after_seq"]);
    await t.client.workspaces.createWorkspace({ workspaceId: "watchers" });
    const key = await t.client.workspaces.createAccessKey({ parent: "workspaces/watchers", accessKey: { user: "w", role: Role.VIEWER } });
    expect((await failure(rest(watch(taskClient(t.app, key.token), { name: task.name })))).code).toBe(Code.NotFound);
  });

  it("ends when its caller goes away, letting go of its wake-ups", async () => {
    let active = 0;
    const inner = t.app.wakeups;
    const counting: TaskWakeups = {
      onEvents(id, listener) {
        active++;
        const off = inner.onEvents(id, listener);
        return () => {
          active--;
          off();
        };
      },
      onQueued: (w, l) => inner.onQueued(w, l),
      ready: () => inner.ready(),
    };
    const tasks = createTasksDomain(t.database.db, createTaskContent({ db: t.database.db, store: t.store }), { wakeups: counting, watchKeepAliveMs: 3_600_000 });
    const task = await newTask();
    const caller = new AbortController();
    const s = tasks.watch({ workspace: null }, task.name, 0, { follow: true, excludeLogs: false }, caller.signal)[Symbol.asyncIterator]();
    expect((await s.next()).value).toMatchObject({ kind: "task" });
    expect((await s.next()).value).toMatchObject({ kind: "event", event: { seq: 1 } });
    const waiting = s.next();
    expect(active).toBe(1);
    caller.abort();
    expect(await waiting).toMatchObject({ done: true });
    expect(active).toBe(0);
  });
}
