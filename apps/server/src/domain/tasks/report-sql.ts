// A worker's report as one SQL statement: one round trip to PostgreSQL and
// one prepared plan, instead of a transaction of seven. The task's row is
// locked first (FOR UPDATE returns its latest version, so the sequence
// numbers taken from it follow every commit before); every write below
// happens only when the lease token still holds the task in scope; the
// statement is atomic on its own, so nothing of a refused or failed report
// is ever visible.
//
// Sequence numbers in report order, from the task's last one: the progress
// event, then the metric points (one number for all), then each line not
// recorded before. A retried report skips the lines this attempt already
// has (`lines_recorded`), and its points are unique by name and step.
import { type Database, taskEvents, taskLogs, taskMetrics, tasks, workers } from "@modelreg/db";
import { TaskState } from "@modelreg/proto";
import { sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";
import { TASK_CHANNEL } from "./events-sql.js";
import { EVENT_KIND } from "./types.js";

export interface ReportStatement {
  taskRowId: string;
  leaseToken: string;
  /** The caller's workspace, or null for every workspace. */
  workspace: string | null;
  /** The progress event's payload, or null. */
  progress: Record<string, unknown> | null;
  points: { name: string; step: number; value: number; epoch: number; time: string }[];
  /** Each line with its index `n` in the report. */
  lines: { n: number; text: string; stream: string; time: string }[];
  firstLineNumber: number;
  /** The worker's GPUs as reported now, or null. */
  gpus: unknown[] | null;
  leaseSeconds: number;
}

/** The task as the report found it (whether or not it held it), and what the report did. */
export interface ReportRow {
  workspace: string;
  taskId: string;
  state: number;
  attempt: number;
  leaseToken: string;
  stopRequested: boolean;
  cancelRequested: boolean;
  /** Null when the lease did not hold the task: nothing was written. */
  leaseUntil: Date | null;
  logBytes: number;
  linesRecorded: number;
  pointsRecorded: number;
}

interface RawRow {
  workspace: string;
  task_id: string;
  state: number;
  attempt: number;
  lease_token: string;
  stop_requested: boolean;
  cancel_requested: boolean;
  lease_until: Date | string | null;
  log_bytes: number | string | null;
  lines: number;
  points: number;
}

/** Runs the report; undefined when no task has the token's id. */
export async function runReport(db: Database, r: ReportStatement): Promise<ReportRow | undefined> {
  const hasProgress = r.progress !== null;
  const pointsOffset = hasProgress ? 2 : 1;
  const pre = (hasProgress ? 1 : 0) + (r.points.length > 0 ? 1 : 0);
  // Each JSON parameter serialised once, however often the statement names it.
  const progress = json(r.progress);
  const gpus = json(r.gpus);
  const result = await db.execute(sql`
    WITH t AS MATERIALIZED (
      SELECT id, workspace, task_id, state, attempt, lease_token, stop_requested, cancel_requested, last_seq, lines_recorded, worker_row_id
      FROM ${tasks} WHERE id = ${r.taskRowId}::uuid FOR UPDATE
    ), ok AS MATERIALIZED (
      SELECT t.*, greatest(0, least(${r.lines.length}::int, t.lines_recorded - ${r.firstLineNumber}::bigint))::int AS skip
      FROM t
      WHERE t.lease_token = ${r.leaseToken}::text AND t.state IN (${TaskState.RUNNING}::smallint, ${TaskState.STOPPING}::smallint)
        AND (${r.workspace}::text IS NULL OR t.workspace = ${r.workspace}::text)
    ), progress_event AS (
      INSERT INTO ${taskEvents} (task_id, seq, kind, payload)
      SELECT ok.id, ok.last_seq + 1, ${EVENT_KIND.progress}::smallint, ${progress}::jsonb FROM ok WHERE ${progress}::jsonb IS NOT NULL
    ), points AS (
      INSERT INTO ${taskMetrics} (task_id, name, step, value, epoch, seq, time)
      SELECT ok.id, x.name, x.step, x.value, x.epoch, ok.last_seq + ${pointsOffset}::int, x.time
      FROM ok, jsonb_to_recordset(${JSON.stringify(r.points)}::jsonb) AS x(name text, step bigint, value double precision, epoch int, time timestamptz)
      ON CONFLICT DO NOTHING
      RETURNING name, step, value
    ), lines AS (
      INSERT INTO ${taskLogs} (task_id, seq, attempt, text, stream, time)
      SELECT ok.id, ok.last_seq + ${pre}::int + 1 + x.n - ok.skip, ok.attempt, x.text, x.stream, x.time
      FROM ok, jsonb_to_recordset(${JSON.stringify(r.lines)}::jsonb) AS x(n int, text text, stream text, time timestamptz)
      WHERE x.n >= ok.skip
      RETURNING octet_length(text) AS bytes
    ), seen AS (
      UPDATE ${workers} SET last_seen_time = now(), gpus = coalesce(${gpus}::jsonb, gpus)
      WHERE id = (SELECT worker_row_id FROM ok) AND (${gpus}::jsonb IS NOT NULL OR last_seen_time < now() - interval '5 seconds')
    ), settled AS (
      UPDATE ${tasks} SET
        last_seq = ok.last_seq + ${pre}::int + (${r.lines.length}::int - ok.skip),
        lines_recorded = greatest(${tasks}.lines_recorded, ${r.firstLineNumber + r.lines.length}::bigint),
        progress = coalesce(${progress}::jsonb, ${tasks}.progress),
        metrics = ${tasks}.metrics || (
          SELECT coalesce(jsonb_object_agg(name, value), '{}'::jsonb)
          FROM (SELECT DISTINCT ON (name) name, value FROM points ORDER BY name, step DESC) latest
        ),
        log_bytes = ${tasks}.log_bytes + (SELECT coalesce(sum(bytes), 0) FROM lines),
        lease_until = now() + make_interval(secs => ${r.leaseSeconds}::double precision)
      FROM ok WHERE ${tasks}.id = ok.id
      RETURNING ${tasks}.last_seq, ${tasks}.lease_until, ${tasks}.log_bytes
    )
    SELECT t.workspace, t.task_id, t.state, t.attempt, t.lease_token, t.stop_requested, t.cancel_requested,
      s.lease_until, s.log_bytes, (SELECT count(*) FROM lines)::int AS lines, (SELECT count(*) FROM points)::int AS points,
      CASE WHEN s.last_seq > t.last_seq THEN (SELECT true FROM pg_notify(${TASK_CHANNEL}::text, 'e ' || t.id || ' ' || s.last_seq)) END AS notified
    FROM t LEFT JOIN settled s ON true`);
  const row = rowsOf<RawRow>(result)[0];
  if (!row) return undefined;
  return {
    workspace: row.workspace,
    taskId: row.task_id,
    state: Number(row.state),
    attempt: Number(row.attempt),
    leaseToken: row.lease_token,
    stopRequested: row.stop_requested,
    cancelRequested: row.cancel_requested,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
    logBytes: Number(row.log_bytes ?? 0),
    linesRecorded: Number(row.lines),
    pointsRecorded: Number(row.points),
  };
}

const json = (v: unknown): string | null => (v === null ? null : JSON.stringify(v));

/**
 * Deletes the task's oldest lines until at least `excess` bytes are gone
 * (to 90% of the cap, so this runs once per tenth of the cap, not on every
 * report), and takes them off the task's count: one statement, one pass
 * of a running sum over the task's lines. Lines another trim deleted first
 * are not counted twice.
 */
export async function trimLogs(db: Database, taskRowId: string, excess: number): Promise<void> {
  await db.execute(sql`
    WITH cut AS (
      SELECT seq FROM (SELECT seq, sum(octet_length(text)) OVER (ORDER BY seq) AS running FROM ${taskLogs} WHERE task_id = ${taskRowId}::uuid) r
      WHERE running >= ${excess}::bigint ORDER BY seq LIMIT 1
    ), gone AS (
      DELETE FROM ${taskLogs} WHERE task_id = ${taskRowId}::uuid AND seq <= (SELECT seq FROM cut)
      RETURNING octet_length(text) AS bytes
    )
    UPDATE ${tasks} SET
      log_bytes = log_bytes - (SELECT coalesce(sum(bytes), 0) FROM gone),
      dropped_lines = dropped_lines + (SELECT count(*) FROM gone)
    WHERE id = ${taskRowId}::uuid`);
}
