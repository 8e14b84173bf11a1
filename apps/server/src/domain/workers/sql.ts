// The queries of workers: registration (an upsert by workspace and worker
// id), lookups within scope, the list, and what each claim and report
// refreshes (last seen, GPUs).
import { type Database, tasks, type Tx, workers, type WorkerRow } from "@modelreg/db";
import { and, desc, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import { taskResourceName } from "../shared/resource-names.js";
import { inScope, type Scope } from "../shared/scope.js";
import { TaskState } from "@modelreg/proto";
import type { WorkerName } from "./rules.js";
import type { GpuRecord, WorkerFields } from "./types.js";

export async function upsertWorker(db: Database, workspace: string, workerId: string, f: WorkerFields): Promise<WorkerRow> {
  const values = { ...f, concurrency: f.concurrency || 1, gpus: f.gpus as unknown as Record<string, unknown>[] };
  const [row] = await db
    .insert(workers)
    .values({ workspace, workerId, ...values })
    .onConflictDoUpdate({ target: [workers.workspace, workers.workerId], set: { ...values, lastSeenTime: sql`now()` } })
    .returning();
  return row!;
}

export async function selectWorker(q: Tx | Database, scope: Scope, n: WorkerName): Promise<WorkerRow | undefined> {
  const [row] = await q
    .select()
    .from(workers)
    .where(and(eq(workers.workspace, n.workspace), eq(workers.workerId, n.workerId), inScope(scope, workers.workspace)));
  return row;
}

/** Marks the worker seen now, with its GPUs when given; returns it. */
export async function touchWorker(q: Tx | Database, id: string, gpus: GpuRecord[] | undefined): Promise<WorkerRow | undefined> {
  const set = gpus ? { lastSeenTime: sql`now()`, gpus: gpus as unknown as Record<string, unknown>[] } : { lastSeenTime: sql`now()` };
  const [row] = await q.update(workers).set(set).where(eq(workers.id, id)).returning();
  return row;
}

/** One page (limit + 1 rows), most recently seen first, after the keyset [ms, id]. */
export async function selectPage(db: Database, workspace: string, onlineSince: Date | undefined, after: string[] | undefined, limit: number): Promise<WorkerRow[]> {
  const seenMs = sql<number>`floor(extract(epoch from ${workers.lastSeenTime}) * 1000)`;
  let keyset: SQL | undefined;
  if (after) keyset = sql`(${seenMs}, ${workers.id}) < (${Number(after[0])}, ${after[1]}::uuid)`;
  return db
    .select()
    .from(workers)
    .where(and(eq(workers.workspace, workspace), onlineSince ? gt(workers.lastSeenTime, onlineSince) : undefined, keyset))
    .orderBy(desc(seenMs), desc(workers.id))
    .limit(limit + 1);
}

/** The tasks each worker holds now, by worker row id. */
export async function runningTasks(q: Tx | Database, workerIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (workerIds.length === 0) return out;
  const rows = await q
    .select({ workerRowId: tasks.workerRowId, workspace: tasks.workspace, taskId: tasks.taskId })
    .from(tasks)
    .where(and(inArray(tasks.workerRowId, workerIds), inArray(tasks.state, [TaskState.RUNNING, TaskState.STOPPING])))
    .orderBy(tasks.seq);
  for (const r of rows) {
    const list = out.get(r.workerRowId!) ?? [];
    list.push(taskResourceName(r.workspace, r.taskId));
    out.set(r.workerRowId!, list);
  }
  return out;
}

