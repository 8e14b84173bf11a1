// The queries of tasks: lookups by name within the caller's scope (locked
// for a change when asked), the list's keyset pages, the task's files, the
// versions it produced, and the writes of create, update and delete. Moves
// between states and their events are in ./events-sql.ts.
import { type Database, taskFiles, tasks, type TaskRow, type Tx, versions } from "@modelreg/db";
import { TaskStateSchema, TaskTypeSchema } from "@modelreg/proto";
import { and, asc, desc, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import { enumCodes } from "../shared/enum-codes.js";
import { compileFilter, type FilterExpr, type FilterFields } from "../shared/filter/index.js";
import type { OrderBy } from "../shared/order-by.js";
import { inScope, type Scope } from "../shared/scope.js";
import { rowsOf } from "../shared/raw-rows.js";
import type { TaskName } from "./rules.js";
import type { TaskFile } from "./types.js";

/** The filterable fields of ListTasks (stated on ListTasksRequest.filter). */
const FILTER_FIELDS: FilterFields = {
  state: { kind: "enumCode", column: tasks.state, codes: enumCodes(TaskStateSchema) },
  type: { kind: "enumCode", column: tasks.type, codes: enumCodes(TaskTypeSchema) },
  queue: { kind: "string", column: tasks.queue },
  model: { kind: "string", column: tasks.model },
  parent_task: { kind: "string", column: tasks.parentTask },
  base_version: { kind: "string", column: tasks.baseVersion },
  data_version: { kind: "string", column: tasks.dataVersion },
  template: { kind: "string", column: tasks.template },
  worker: { kind: "string", column: tasks.worker },
  labels: { kind: "map", column: tasks.labels, valueKind: "string" },
  create_time: { kind: "timestamp", column: tasks.createTime },
  update_time: { kind: "timestamp", column: tasks.updateTime },
};

/** One task by name, within scope (locked when `lock`). */
export async function selectByName(q: Tx | Database, scope: Scope, n: TaskName, lock = false): Promise<TaskRow | undefined> {
  const base = q
    .select()
    .from(tasks)
    .where(and(eq(tasks.workspace, n.workspace), eq(tasks.taskId, n.taskId), inScope(scope, tasks.workspace)));
  const [hit] = await (lock ? base.for("update") : base);
  return hit;
}

/** The task a CreateTask with this request id made, if any. */
export async function selectByRequestId(q: Tx | Database, workspace: string, requestId: string): Promise<TaskRow | undefined> {
  const [hit] = await q
    .select()
    .from(tasks)
    .where(and(eq(tasks.workspace, workspace), eq(tasks.requestId, requestId)));
  return hit;
}

export async function insertTask(tx: Tx, values: typeof tasks.$inferInsert): Promise<TaskRow> {
  const [row] = await tx.insert(tasks).values(values).returning();
  return row!;
}

/** Input (1) and output (2) files. */
export const FILE_KIND = { input: 1, output: 2 } as const;

export async function insertFiles(tx: Tx, taskId: string, kind: number, files: TaskFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += 1000) await tx.insert(taskFiles).values(files.slice(i, i + 1000).map((f) => ({ taskId, kind, ...f })));
}

export async function replaceFiles(tx: Tx, taskId: string, kind: number, files: TaskFile[]): Promise<void> {
  await tx.delete(taskFiles).where(and(eq(taskFiles.taskId, taskId), eq(taskFiles.kind, kind)));
  await insertFiles(tx, taskId, kind, files);
}

export async function selectFiles(q: Tx | Database, taskId: string): Promise<{ inputs: TaskFile[]; outputs: TaskFile[] }> {
  const rows = await q
    .select({ kind: taskFiles.kind, path: taskFiles.path, size: taskFiles.size, sha256: taskFiles.sha256, mediaType: taskFiles.mediaType })
    .from(taskFiles)
    .where(eq(taskFiles.taskId, taskId))
    .orderBy(asc(taskFiles.path));
  const pick = (kind: number) => rows.filter((r) => r.kind === kind).map(({ kind: _, ...f }) => f);
  return { inputs: pick(FILE_KIND.input), outputs: pick(FILE_KIND.output) };
}

/** Resource names of the versions whose lineage names the task, oldest first. */
export async function selectOutputVersions(q: Tx | Database, workspace: string, taskName: string): Promise<{ model: string; version: string }[]> {
  const rows = await q.execute(sql`
    SELECT m.name AS model, v.version AS version FROM ${versions} v JOIN models m ON m.id = v.model_id
    WHERE v.workspace = ${workspace} AND v.source_task = ${taskName} ORDER BY v.seq`);
  return rowsOf<{ model: string; version: string }>(rows);
}

/**
 * One page (limit + 1 rows) of a workspace's tasks after the keyset. By
 * creation time the keyset is the creation order alone ([seq]); by update
 * time it is [ms since epoch, seq], the time cut to milliseconds on both
 * sides so that a key read back through a JavaScript Date still compares
 * equal.
 */
export async function selectPage(db: Database, scope: Scope, workspace: string, expr: FilterExpr, order: OrderBy, after: string[] | undefined, limit: number): Promise<TaskRow[]> {
  const beyond = order.desc ? lt : gt;
  const dir = order.desc ? desc : asc;
  const byUpdate = order.field === "update_time";
  const updateMs = sql<number>`floor(extract(epoch from ${tasks.updateTime}) * 1000)`;
  let keyset: SQL | undefined;
  if (after && byUpdate) {
    const [ms, seq] = [Number(after[0]), Number(after[1])];
    keyset = order.desc ? sql`(${updateMs}, ${tasks.seq}) < (${ms}, ${seq})` : sql`(${updateMs}, ${tasks.seq}) > (${ms}, ${seq})`;
  } else if (after) keyset = beyond(tasks.seq, Number(after[0]));
  return db
    .select()
    .from(tasks)
    .where(and(eq(tasks.workspace, workspace), inScope(scope, tasks.workspace), compileFilter(expr, FILTER_FIELDS), keyset))
    .orderBy(...(byUpdate ? [dir(updateMs), dir(tasks.seq)] : [dir(tasks.seq)]))
    .limit(limit + 1);
}

/** The keyset key of a row for the order (see selectPage). */
export function pageKey(row: TaskRow, order: OrderBy): string[] {
  return order.field === "update_time" ? [String(row.updateTime.getTime()), String(row.seq)] : [String(row.seq)];
}

export async function updateFields(tx: Tx, id: string, set: Partial<typeof tasks.$inferInsert>): Promise<TaskRow> {
  const [row] = await tx
    .update(tasks)
    .set({ ...set, revision: sql`${tasks.revision} + 1`, updateTime: sql`now()` })
    .where(eq(tasks.id, id))
    .returning();
  return row!;
}

export async function deleteTask(tx: Tx, id: string): Promise<void> {
  await tx.delete(tasks).where(eq(tasks.id, id));
}
