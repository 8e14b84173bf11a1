// A worker's report: progress, metric points and log lines of its attempt,
// in one transaction under the lease, each taking the task's next sequence
// numbers; the lease is extended. A retried report records nothing twice:
// metric points are unique by name and step, and log lines by their number
// within the attempt (tasks.lines_recorded). Logs are capped per task: past
// the cap the oldest lines are deleted, so neither a row nor the server's
// memory grows with a task that logs without end.
import { type Database, taskLogs, taskMetrics, tasks, type TaskRow, type Tx, workers } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { eq, sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";
import type { Scope } from "../shared/scope.js";
import type { GpuRecord } from "../workers/index.js";
import { insertEvent, TASK_CHANNEL } from "./events-sql.js";
import { lockByLease } from "./lease.js";
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
    const now = new Date();
    // Sequence numbers in report order: progress, the metric points (one for all), then each line.
    let seq = task.lastSeq + 1;
    const progress = r.progress && { ...r.progress, reportTime: now.toISOString() };
    if (progress) await insertEvent(tx, task.id, seq++, EVENT_KIND.progress, progress);
    const latest = r.metrics.length > 0 ? await recordPoints(tx, task, r.metrics, seq++, now) : { recorded: 0, values: {} };
    const bytes = lines.length > 0 ? await recordLines(tx, task, lines, seq, now) : 0;
    const after = await settle(tx, task, {
      lastSeq: seq + lines.length - 1,
      linesRecorded: Math.max(task.linesRecorded, r.firstLineNumber + r.logs.length),
      progress,
      metrics: latest.values,
      logBytes: bytes,
      leaseMs: settings.leaseMs,
      gpus: r.gpus,
    });
    if (after.logBytes > settings.logCapBytes) await trimLogs(tx, task.id, after.logBytes - Math.floor(settings.logCapBytes * 0.9));
    return {
      stopRequested: task.stopRequested || task.state === TaskState.STOPPING,
      cancelRequested: task.cancelRequested,
      leaseExpireTime: after.leaseUntil,
      linesRecorded: lines.length,
      pointsRecorded: latest.recorded,
    };
  });
}

interface Settled {
  lastSeq: number;
  linesRecorded: number;
  progress: ProgressRecord | undefined;
  metrics: Record<string, number>;
  logBytes: number;
  leaseMs: number;
  gpus: GpuRecord[] | undefined;
}

/**
 * One statement for what the report changes on the task's row (the last
 * sequence number, lines recorded, progress, latest metrics, log bytes, the
 * lease), the NOTIFY of its events, and the worker seen (at most every few
 * seconds, unless its GPUs changed).
 */
async function settle(tx: Tx, task: TaskRow, s: Settled): Promise<{ leaseUntil: Date; logBytes: number }> {
  const notify = s.lastSeq > task.lastSeq ? sql`, pg_notify(${TASK_CHANNEL}, ${`e ${task.id} ${s.lastSeq}`})` : sql``;
  const seen = task.workerRowId
    ? s.gpus
      ? sql`UPDATE ${workers} SET last_seen_time = now(), gpus = ${JSON.stringify(s.gpus)}::jsonb WHERE id = ${task.workerRowId}`
      : sql`UPDATE ${workers} SET last_seen_time = now() WHERE id = ${task.workerRowId} AND last_seen_time < now() - interval '5 seconds'`
    : sql`SELECT 1`;
  const result = await tx.execute(sql`
    WITH seen AS (${seen})
    UPDATE ${tasks} SET
      last_seq = ${s.lastSeq},
      lines_recorded = ${s.linesRecorded},
      progress = ${s.progress ? sql`${JSON.stringify(s.progress)}::jsonb` : sql`progress`},
      metrics = metrics || ${JSON.stringify(s.metrics)}::jsonb,
      log_bytes = log_bytes + ${s.logBytes},
      lease_until = now() + make_interval(secs => ${s.leaseMs / 1000})
    WHERE id = ${task.id}
    RETURNING lease_until, log_bytes${notify}`);
  const row = rowsOf<{ lease_until: Date | string; log_bytes: number | string }>(result)[0]!;
  return { leaseUntil: new Date(row.lease_until), logBytes: Number(row.log_bytes) };
}

/** Inserts the points not yet recorded (all sharing the report's seq); returns how many and each metric's latest value. */
async function recordPoints(tx: Tx, task: TaskRow, points: ReportInput["metrics"], seq: number, now: Date) {
  const rows = points.map((p) => ({ name: p.name, step: p.step, value: p.value, epoch: p.epoch, time: (p.time ?? now).toISOString() }));
  const inserted = rowsOf<{ name: string; step: number | string; value: number }>(
    await tx.execute(sql`
      INSERT INTO ${taskMetrics} (task_id, name, step, value, epoch, seq, time)
      SELECT ${task.id}, x.name, x.step, x.value, x.epoch, ${seq}, x.time
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(name text, step bigint, value double precision, epoch int, time timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING name, step, value`),
  );
  const latest: Record<string, { step: number; value: number }> = {};
  for (const p of inserted) if (!latest[p.name] || Number(p.step) >= latest[p.name]!.step) latest[p.name] = { step: Number(p.step), value: p.value };
  return { recorded: inserted.length, values: Object.fromEntries(Object.entries(latest).map(([k, v]) => [k, v.value])) };
}

/** Inserts the lines with consecutive seqs from `first`; returns their bytes. */
async function recordLines(tx: Tx, task: TaskRow, lines: ReportInput["logs"], first: number, now: Date): Promise<number> {
  const rows = lines.map((l, i) => ({ seq: first + i, text: cutLine(l.text), stream: l.stream, time: (l.time ?? now).toISOString() }));
  await tx.execute(sql`
    INSERT INTO ${taskLogs} (task_id, seq, attempt, text, stream, time)
    SELECT ${task.id}, x.seq, ${task.attempt}, x.text, x.stream, x.time
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(seq bigint, text text, stream text, time timestamptz)`);
  return rows.reduce((sum, r) => sum + Buffer.byteLength(r.text), 0);
}

/**
 * Deletes the task's oldest lines until at least `excess` bytes are gone
 * (to 90% of the cap, so this runs once per tenth of the cap, not on every
 * report): one pass of a running sum over the task's lines.
 */
async function trimLogs(tx: Tx, taskRowId: string, excess: number): Promise<void> {
  const gone = await tx.execute(sql`
    WITH cut AS (
      SELECT seq FROM (SELECT seq, sum(octet_length(text)) OVER (ORDER BY seq) AS running FROM ${taskLogs} WHERE task_id = ${taskRowId}) r
      WHERE running >= ${excess} ORDER BY seq LIMIT 1
    )
    DELETE FROM ${taskLogs} WHERE task_id = ${taskRowId} AND seq <= (SELECT seq FROM cut)
    RETURNING octet_length(text) AS bytes`);
  const rows = rowsOf<{ bytes: number }>(gone);
  const freed = rows.reduce((s, r) => s + Number(r.bytes), 0);
  await tx
    .update(tasks)
    .set({ logBytes: sql`${tasks.logBytes} - ${freed}`, droppedLines: sql`${tasks.droppedLines} + ${rows.length}` })
    .where(eq(tasks.id, taskRowId));
}
