// A worker's report: progress, metric points and log lines of its attempt,
// in one transaction under the lease, each taking the task's next sequence
// numbers; the lease is extended. A retried report records nothing twice:
// metric points are unique by name and step, and log lines by their number
// within the attempt (tasks.lines_recorded). Logs are capped per task: past
// the cap the oldest lines are deleted, so neither a row nor the server's
// memory grows with a task that logs without end.
import { type Database, taskLogs, taskMetrics, tasks, type TaskRow, type Tx } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { eq, sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";
import type { Scope } from "../shared/scope.js";
import { touchWorker, type GpuRecord } from "../workers/index.js";
import { insertEvent, notifyEvents, takeSeqs } from "./events-sql.js";
import { extendLease, lockByLease } from "./lease.js";
import { checkReport, cutLine } from "./report-rules.js";
import { EVENT_KIND, type MetricPointRecord, type ProgressRecord } from "./types.js";

export interface ReportInput {
  leaseToken: string;
  progress: ProgressRecord | undefined;
  metrics: (Omit<MetricPointRecord, "time"> & { time: Date | undefined })[];
  logs: { text: string; stream: string; time: Date | undefined }[];
  firstLineNumber: number;
  gpus: GpuRecord[] | undefined;
}

export interface ReportResult {
  stopRequested: boolean;
  cancelRequested: boolean;
  leaseExpireTime: Date;
  linesRecorded: number;
  pointsRecorded: number;
}

export interface ReportSettings {
  leaseMs: number;
  /** Log bytes kept per task; past it the oldest lines go. */
  logCapBytes: number;
}

export async function reportProgress(db: Database, settings: ReportSettings, scope: Scope, r: ReportInput): Promise<ReportResult> {
  checkReport(r);
  return db.transaction(async (tx) => {
    const task = await lockByLease(tx, scope, r.leaseToken);
    // Lines this attempt already recorded (a retried report) are skipped.
    const skip = Math.max(0, Math.min(r.logs.length, task.linesRecorded - r.firstLineNumber));
    const lines = r.logs.slice(skip);
    const n = lines.length + (r.metrics.length > 0 ? 1 : 0) + (r.progress ? 1 : 0);
    let seq = n > 0 ? await takeSeqs(tx, task.id, n) : task.lastSeq + 1;
    const now = new Date();
    if (r.progress) {
      const progress = { ...r.progress, reportTime: now.toISOString() };
      await insertEvent(tx, task.id, seq++, EVENT_KIND.progress, progress);
      await tx.update(tasks).set({ progress }).where(eq(tasks.id, task.id));
    }
    const pointsRecorded = r.metrics.length > 0 ? await recordPoints(tx, task, r.metrics, seq++, now) : 0;
    if (lines.length > 0) await recordLines(tx, task, lines, seq, now, settings.logCapBytes);
    if (lines.length > 0 || r.firstLineNumber + r.logs.length > task.linesRecorded)
      await tx
        .update(tasks)
        .set({ linesRecorded: Math.max(task.linesRecorded, r.firstLineNumber + r.logs.length) })
        .where(eq(tasks.id, task.id));
    const leaseExpireTime = await extendLease(tx, task.id, settings.leaseMs);
    if (task.workerRowId) await touchWorker(tx, task.workerRowId, r.gpus);
    if (n > 0) await notifyEvents(tx, task.id, seq + lines.length - 1);
    return {
      stopRequested: task.stopRequested || task.state === TaskState.STOPPING,
      cancelRequested: task.cancelRequested,
      leaseExpireTime,
      linesRecorded: lines.length,
      pointsRecorded,
    };
  });
}

/** Inserts the points not yet recorded (all sharing the report's seq) and keeps each metric's latest value on the task. */
async function recordPoints(tx: Tx, task: TaskRow, points: ReportInput["metrics"], seq: number, now: Date): Promise<number> {
  const inserted = await tx
    .insert(taskMetrics)
    .values(points.map((p) => ({ taskId: task.id, name: p.name, step: p.step, value: p.value, epoch: p.epoch, seq, time: p.time ?? now })))
    .onConflictDoNothing()
    .returning({ name: taskMetrics.name, step: taskMetrics.step, value: taskMetrics.value });
  if (inserted.length === 0) return 0;
  const latest: Record<string, { step: number; value: number }> = {};
  for (const p of inserted) if (!latest[p.name] || p.step >= latest[p.name]!.step) latest[p.name] = p;
  const values = Object.fromEntries(Object.entries(latest).map(([k, v]) => [k, v.value]));
  await tx
    .update(tasks)
    .set({ metrics: sql`${tasks.metrics} || ${JSON.stringify(values)}::jsonb` })
    .where(eq(tasks.id, task.id));
  return inserted.length;
}

/** Inserts the lines with consecutive seqs from `first`, then trims the task's oldest lines past the cap. */
async function recordLines(tx: Tx, task: TaskRow, lines: ReportInput["logs"], first: number, now: Date, capBytes: number): Promise<void> {
  const rows = lines.map((l, i) => ({ taskId: task.id, seq: first + i, attempt: task.attempt, text: cutLine(l.text), stream: l.stream, time: l.time ?? now }));
  const bytes = rows.reduce((sum, r) => sum + Buffer.byteLength(r.text), 0);
  await tx.insert(taskLogs).values(rows);
  const [after] = await tx
    .update(tasks)
    .set({ logBytes: sql`${tasks.logBytes} + ${bytes}` })
    .where(eq(tasks.id, task.id))
    .returning({ logBytes: tasks.logBytes });
  // Trim to 90% of the cap, so trimming happens once per tenth of the cap, not on every report.
  if (after!.logBytes > capBytes) await trimLogs(tx, task.id, after!.logBytes - Math.floor(capBytes * 0.9));
}

/** Deletes the task's oldest lines until at least `excess` bytes are gone. */
async function trimLogs(tx: Tx, taskRowId: string, excess: number): Promise<void> {
  const gone = await tx.execute(sql`
    WITH oldest AS (
      SELECT seq, sum(octet_length(text)) OVER (ORDER BY seq) AS running FROM ${taskLogs} WHERE task_id = ${taskRowId} ORDER BY seq
    ), cut AS (
      SELECT max(seq) AS upto FROM oldest WHERE running - octet_length((SELECT text FROM ${taskLogs} l WHERE l.task_id = ${taskRowId} AND l.seq = oldest.seq)) < ${excess}
    )
    DELETE FROM ${taskLogs} WHERE task_id = ${taskRowId} AND seq <= (SELECT upto FROM cut)
    RETURNING octet_length(text) AS bytes`);
  const rows = rowsOf<{ bytes: number }>(gone);
  const freed = rows.reduce((s, r) => s + Number(r.bytes), 0);
  await tx
    .update(tasks)
    .set({ logBytes: sql`${tasks.logBytes} - ${freed}`, droppedLines: sql`${tasks.droppedLines} + ${rows.length}` })
    .where(eq(tasks.id, taskRowId));
}
