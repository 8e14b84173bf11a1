// The queries of a task's read side: its events, log lines and metric
// points in a range of sequence numbers, the log's tail, a metric series
// (reduced in SQL when it is long), and its checkpoints with their files.
import { type Database, taskCheckpointFiles, taskCheckpoints, taskEvents, taskLogs, taskMetrics, tasks, type TaskCheckpointRow, type Tx } from "@modelreg/db";
import { CheckpointState } from "@modelreg/proto";
import { and, asc, count, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";
import { inScope, type Scope } from "../shared/scope.js";
import type { TaskName } from "./rules.js";
import type { TaskFile } from "./types.js";

export type EventRow = typeof taskEvents.$inferSelect;
export type LogRow = Omit<typeof taskLogs.$inferSelect, "taskId">;
export type MetricRow = Omit<typeof taskMetrics.$inferSelect, "taskId">;

/** task_events rows with after < seq <= upto, oldest first, at most `limit`. */
export function selectEvents(db: Database, taskRowId: string, after: number, upto: number, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(taskEvents)
    .where(and(eq(taskEvents.taskId, taskRowId), gt(taskEvents.seq, after), lte(taskEvents.seq, upto)))
    .orderBy(asc(taskEvents.seq))
    .limit(limit);
}

const logColumns = { seq: taskLogs.seq, attempt: taskLogs.attempt, text: taskLogs.text, stream: taskLogs.stream, time: taskLogs.time };

/** Log lines with after < seq (<= upto when given), oldest first, at most `limit`. */
export function selectLogs(db: Database, taskRowId: string, after: number, upto: number | undefined, limit: number): Promise<LogRow[]> {
  return db
    .select(logColumns)
    .from(taskLogs)
    .where(and(eq(taskLogs.taskId, taskRowId), gt(taskLogs.seq, after), upto === undefined ? undefined : lte(taskLogs.seq, upto)))
    .orderBy(asc(taskLogs.seq))
    .limit(limit);
}

/**
 * The last `n` log lines of the task named (oldest first) and its count of
 * dropped lines, in one statement: a tail is what someone watching a busy
 * task asks for every second, while its worker writes. Undefined when no
 * such task is in scope.
 */
export async function selectLogTail(db: Database, scope: Scope, task: TaskName, n: number): Promise<{ lines: LogRow[]; droppedLines: number } | undefined> {
  const result = await db.execute(sql`
    SELECT ${tasks.droppedLines} AS dropped, l.seq, l.attempt, l.text, l.stream, l.time
    FROM ${tasks}
    LEFT JOIN LATERAL (
      SELECT seq, attempt, text, stream, time FROM ${taskLogs} WHERE task_id = ${tasks.id} ORDER BY seq DESC LIMIT ${n}::int
    ) l ON true
    WHERE ${and(eq(tasks.workspace, task.workspace), eq(tasks.taskId, task.taskId), inScope(scope, tasks.workspace))}
    ORDER BY l.seq`);
  type Row = { dropped: number | string; seq: number | string | null; attempt: number; text: string; stream: string; time: Date | string };
  const rows = rowsOf<Row>(result);
  if (rows.length === 0) return undefined;
  const lines = rows
    .filter((x) => x.seq !== null)
    .map((x) => ({ seq: Number(x.seq), attempt: Number(x.attempt), text: x.text, stream: x.stream, time: new Date(x.time) }));
  return { lines, droppedLines: Number(rows[0]!.dropped) };
}

const metricColumns = { seq: taskMetrics.seq, name: taskMetrics.name, step: taskMetrics.step, value: taskMetrics.value, epoch: taskMetrics.epoch, time: taskMetrics.time };

/** The metric points of the first `limit` reports (sequence numbers) with after < seq <= upto, by seq then name and step. */
export function selectMetricReports(db: Database, taskRowId: string, after: number, upto: number, limit: number): Promise<MetricRow[]> {
  const inRange = and(eq(taskMetrics.taskId, taskRowId), gt(taskMetrics.seq, after), lte(taskMetrics.seq, upto));
  const seqs = db.selectDistinct({ seq: taskMetrics.seq }).from(taskMetrics).where(inRange).orderBy(asc(taskMetrics.seq)).limit(limit);
  return db
    .select(metricColumns)
    .from(taskMetrics)
    .where(and(inRange, inArray(taskMetrics.seq, seqs)))
    .orderBy(asc(taskMetrics.seq), asc(taskMetrics.name), asc(taskMetrics.step));
}

/** Each metric's name and number of points, by name (only `names` when not empty). */
export function selectMetricCounts(db: Database, taskRowId: string, names: string[]): Promise<{ name: string; total: number }[]> {
  return db
    .select({ name: taskMetrics.name, total: count() })
    .from(taskMetrics)
    .where(and(eq(taskMetrics.taskId, taskRowId), names.length > 0 ? inArray(taskMetrics.name, names) : undefined))
    .groupBy(taskMetrics.name)
    .orderBy(asc(taskMetrics.name));
}

/** Every point of a series, by step. */
export function selectSeries(db: Database, taskRowId: string, name: string): Promise<MetricRow[]> {
  return db
    .select(metricColumns)
    .from(taskMetrics)
    .where(and(eq(taskMetrics.taskId, taskRowId), eq(taskMetrics.name, name)))
    .orderBy(asc(taskMetrics.step));
}

/**
 * A long series reduced in the database to at most 4 points per bucket
 * (`buckets` equal runs of steps): each bucket's first, last, lowest and
 * highest point, which draw the same line as the whole bucket (M4). What
 * comes back is then small enough to downsample in memory.
 */
export async function selectSeriesReduced(db: Database, taskRowId: string, name: string, buckets: number): Promise<MetricRow[]> {
  const result = await db.execute(sql`
    WITH s AS (
      SELECT seq, name, step, value, epoch, time, ntile(${buckets}) OVER (ORDER BY step) AS b
      FROM ${taskMetrics} WHERE task_id = ${taskRowId} AND name = ${name}
    ), r AS (
      SELECT *,
        row_number() OVER (PARTITION BY b ORDER BY step) AS first_in,
        row_number() OVER (PARTITION BY b ORDER BY step DESC) AS last_in,
        row_number() OVER (PARTITION BY b ORDER BY value, step) AS lowest,
        row_number() OVER (PARTITION BY b ORDER BY value DESC, step) AS highest
      FROM s
    )
    SELECT seq, name, step, value, epoch, time FROM r
    WHERE first_in = 1 OR last_in = 1 OR lowest = 1 OR highest = 1 ORDER BY step`);
  return rowsOf<{ seq: number | string; name: string; step: number | string; value: number | string; epoch: number; time: Date | string }>(result).map((r) => ({
    seq: Number(r.seq),
    name: r.name,
    step: Number(r.step),
    value: Number(r.value),
    epoch: Number(r.epoch),
    time: new Date(r.time),
  }));
}

/** A task's checkpoints by epoch (committed ones only unless `includePending`), or those of the given epochs. */
export function selectCheckpoints(q: Tx | Database, taskRowId: string, o: { includePending: boolean; epochs?: number[] }): Promise<TaskCheckpointRow[]> {
  return q
    .select()
    .from(taskCheckpoints)
    .where(
      and(
        eq(taskCheckpoints.taskId, taskRowId),
        o.includePending ? undefined : eq(taskCheckpoints.state, CheckpointState.COMMITTED),
        o.epochs ? inArray(taskCheckpoints.epoch, o.epochs) : undefined,
      ),
    )
    .orderBy(asc(taskCheckpoints.epoch));
}

/** The files of checkpoints, by checkpoint id, each list by path. */
export async function selectCheckpointFiles(q: Tx | Database, checkpointIds: string[]): Promise<Map<string, TaskFile[]>> {
  const byId = new Map<string, TaskFile[]>(checkpointIds.map((id) => [id, []]));
  if (checkpointIds.length === 0) return byId;
  const rows = await q
    .select()
    .from(taskCheckpointFiles)
    .where(inArray(taskCheckpointFiles.checkpointId, checkpointIds))
    .orderBy(asc(taskCheckpointFiles.checkpointId), asc(taskCheckpointFiles.path));
  for (const { checkpointId, ...f } of rows) byId.get(checkpointId)?.push(f);
  return byId;
}
