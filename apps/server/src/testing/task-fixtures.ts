// Tasks in tests: a TaskService client over the in-process router (with an
// access key, or the test admin's), and what a worker would record, written
// by SQL in the shapes the worker side writes (a report's sequence numbers
// taken under the task's row lock, then the NOTIFY), so the read side can
// be tested on its own.
import { type Client, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { type Database, taskCheckpointFiles, taskCheckpoints, taskEvents, taskLogs, taskMetrics, tasks } from "@modelreg/db";
import { TaskService, type TaskState } from "@modelreg/proto";
import { and, eq, sql } from "drizzle-orm";
import { TASK_CHANNEL } from "../domain/tasks/index.js";
import type { App } from "../app.js";

export type TaskClient = Client<typeof TaskService>;

function withKey(accessKey: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${accessKey}`);
    return next(req);
  };
}

/** A TaskService client of the app with this access key ("" = none). */
export function taskClient(app: Pick<App, "routes" | "interceptors">, accessKey: string): TaskClient {
  const transport = createRouterTransport(app.routes, {
    router: { interceptors: app.interceptors },
    transport: { interceptors: accessKey ? [withKey(accessKey)] : [] },
  });
  return createClient(TaskService, transport);
}

function whereName(name: string) {
  const [, workspace, , taskId] = name.split("/");
  return and(eq(tasks.workspace, workspace!), eq(tasks.taskId, taskId!));
}

/** Puts a task in a state as a claim or a lost lease would (no event recorded). */
export async function setTaskState(db: Database, name: string, state: TaskState, attempt = 1): Promise<void> {
  await db.update(tasks).set({ state, attempt }).where(whereName(name));
}

export interface FakeReport {
  /** Metric points, one report (one sequence number). */
  metrics?: { name: string; step: number; value: number; epoch?: number }[];
  /** Log lines, each its own sequence number, after the metrics. */
  logs?: string[];
}

/** Records a worker's report as the worker side does; returns the task's last sequence number after it. */
export function fakeReport(db: Database, name: string, r: FakeReport): Promise<number> {
  const logs = r.logs ?? [];
  const metrics = r.metrics ?? [];
  const n = logs.length + (metrics.length > 0 ? 1 : 0);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(tasks)
      .set({ lastSeq: sql`${tasks.lastSeq} + ${n}` })
      .where(whereName(name))
      .returning({ id: tasks.id, lastSeq: tasks.lastSeq, attempt: tasks.attempt });
    let seq = row!.lastSeq - n + 1;
    const time = new Date();
    if (metrics.length > 0) await tx.insert(taskMetrics).values(metrics.map((m) => ({ taskId: row!.id, name: m.name, step: m.step, value: m.value, epoch: m.epoch ?? 0, seq, time })));
    if (metrics.length > 0) seq++;
    if (logs.length > 0) await tx.insert(taskLogs).values(logs.map((text, i) => ({ taskId: row!.id, seq: seq + i, attempt: row!.attempt, text, stream: "stdout", time })));
    await tx.execute(sql`SELECT pg_notify(${TASK_CHANNEL}, ${`e ${row!.id} ${row!.lastSeq}`})`);
    return row!.lastSeq;
  });
}

/** Records a checkpoint of the task as the worker side does: its row and files, and (committed) its event. */
export async function fakeCheckpoint(db: Database, name: string, epoch: number, o: { committed: boolean; files?: { path: string; size: number; sha256: string }[] }): Promise<void> {
  const files = o.files ?? [];
  await db.transaction(async (tx) => {
    const [row] = await tx.select({ id: tasks.id, attempt: tasks.attempt }).from(tasks).where(whereName(name)).for("update");
    const totalSize = files.reduce((s, f) => s + f.size, 0);
    const [c] = await tx
      .insert(taskCheckpoints)
      .values({ taskId: row!.id, epoch, state: o.committed ? 2 : 1, attempt: row!.attempt, metrics: { accuracy: 0.5 + epoch / 100 }, fileCount: files.length, totalSize, commitTime: o.committed ? new Date() : null })
      .returning({ id: taskCheckpoints.id });
    if (files.length > 0) await tx.insert(taskCheckpointFiles).values(files.map((f) => ({ checkpointId: c!.id, mediaType: "application/octet-stream", ...f })));
    if (!o.committed) return;
    const [t] = await tx.update(tasks).set({ lastSeq: sql`${tasks.lastSeq} + 1` }).where(eq(tasks.id, row!.id)).returning({ lastSeq: tasks.lastSeq });
    await tx.insert(taskEvents).values({ taskId: row!.id, seq: t!.lastSeq, kind: 3, payload: { epoch } });
    await tx.execute(sql`SELECT pg_notify(${TASK_CHANNEL}, ${`e ${row!.id} ${t!.lastSeq}`})`);
  });
}
