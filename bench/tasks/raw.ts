// The baseline: what the server does for tasks, written as plain SQL over
// postgres.js, on the same tables (migrated by the server) in a workspace
// of its own. Creating queues a task and NOTIFYs; a claim is one
// `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)` that
// also records the state change and NOTIFYs; a report is one transaction
// (lock the task row and take its sequence numbers, then the progress
// event, the metric points ON CONFLICT DO NOTHING and the log lines, then
// NOTIFY); the sweep queues again what outlived its lease; a watcher reads
// by sequence number when woken. Notifications go to a channel of the
// baseline's own, so the server never hears them.
import { randomBytes } from "node:crypto";
import { TaskState, TaskType } from "@modelreg/proto";
import type { Sql } from "postgres";
import type { ReportBody } from "./common.js";

export const RAW_WORKSPACE = "bench-raw";
/** Payloads as the server's: `q <workspace>` and `e <task uuid> <seq>`. */
export const RAW_CHANNEL = "bench_raw_tasks";

export interface RawTask {
  id: string;
  leaseToken: string;
  attempt: number;
}

export interface RawSide {
  sql: Sql;
  /** Queues a task; resolves when it is committed (and notified). */
  create(queue: string, params: Record<string, unknown>): Promise<string>;
  /** Claims the oldest queued task of `queue`; undefined when there is none. */
  claim(queue: string, worker: string, leaseSeconds: number): Promise<RawTask | undefined>;
  report(t: RawTask, b: ReportBody, leaseSeconds: number): Promise<void>;
  /** Writes log lines only (the 1 GiB phase), trimming the task's oldest past `capBytes` to 90% of it. */
  writeLogs(t: RawTask, lines: string[], capBytes: number, leaseSeconds: number): Promise<void>;
  tail(id: string, n: number): Promise<number>;
  /** Queues again the baseline's tasks whose lease ran out; returns their ids. */
  sweep(): Promise<string[]>;
  state(id: string): Promise<number>;
  /** Ends one task (SUCCEEDED, lease released), untimed. */
  finish(id: string): Promise<void>;
  /** Ends every baseline task still running (between phases, so no lease runs out later). */
  finishAll(): Promise<void>;
  /** Everything after `after` up to the task's last seq: events, lines, points, as a watcher reads them. */
  readAfter(id: string, after: number): Promise<{ through: number; more: boolean; lines: string[] }>;
}

const json = (v: unknown) => JSON.stringify(v);

export async function createRawSide(sql: Sql): Promise<RawSide> {
  await sql`INSERT INTO workspaces (name, description) VALUES (${RAW_WORKSPACE}, 'tasks bench baseline') ON CONFLICT DO NOTHING`;
  const side: RawSide = {
    sql,
    async create(queue, params) {
      const taskId = `train-${randomBytes(4).toString("hex")}`;
      const [row] = await sql<{ id: string }[]>`
        WITH t AS (
          INSERT INTO tasks (workspace, task_id, type, template, params, given_params, queue, state, last_seq, creator)
          VALUES (${RAW_WORKSPACE}, ${taskId}, ${TaskType.TRAIN}, 'bench', ${json(params)}::jsonb, '{}'::jsonb, ${queue}, ${TaskState.QUEUED}, 1, 'bench')
          RETURNING id
        ), e AS (
          INSERT INTO task_events (task_id, seq, kind, payload)
          SELECT id, 1, 1, ${json({ state: TaskState.QUEUED, previousState: TaskState.UNSPECIFIED, message: "created" })}::jsonb FROM t
        )
        SELECT id, pg_notify(${RAW_CHANNEL}, ${`q ${RAW_WORKSPACE}`}) FROM t`;
      return row!.id;
    },
    async claim(queue, worker, leaseSeconds) {
      const token = randomBytes(18).toString("base64url");
      const [row] = await sql<{ id: string; last_seq: string; attempt: number }[]>`
        WITH c AS (
          UPDATE tasks SET state = ${TaskState.RUNNING}, attempt = attempt + 1, worker = ${worker}, lease_token = ${token},
            lease_until = now() + make_interval(secs => ${leaseSeconds}), lines_recorded = 0, stop_requested = false, cancel_requested = false,
            start_time = coalesce(start_time, now()), end_time = NULL, last_seq = last_seq + 1, revision = revision + 1, update_time = now()
          WHERE id = (
            SELECT id FROM tasks WHERE workspace = ${RAW_WORKSPACE} AND state = ${TaskState.QUEUED} AND queue = ${queue}
            ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, last_seq, attempt
        ), e AS (
          INSERT INTO task_events (task_id, seq, kind, payload)
          SELECT id, last_seq, 1, jsonb_build_object('state', ${TaskState.RUNNING}::int, 'previousState', ${TaskState.QUEUED}::int, 'attempt', attempt, 'worker', ${worker}::text) FROM c
        )
        SELECT id, last_seq, attempt, pg_notify(${RAW_CHANNEL}, 'e ' || id || ' ' || last_seq) FROM c`;
      return row ? { id: row.id, leaseToken: token, attempt: row.attempt } : undefined;
    },
    report: (t, b, leaseSeconds) => report(sql, t, b, leaseSeconds),
    writeLogs: (t, lines, capBytes, leaseSeconds) => writeLogs(sql, t, lines, capBytes, leaseSeconds),
    async tail(id, n) {
      const rows = await sql`SELECT seq, attempt, text, stream, time FROM task_logs WHERE task_id = ${id} ORDER BY seq DESC LIMIT ${n}`;
      return rows.length;
    },
    async sweep() {
      const rows = await sql<{ id: string }[]>`
        WITH s AS (
          UPDATE tasks SET state = ${TaskState.QUEUED}, worker = '', lease_token = '', lease_until = NULL,
            last_seq = last_seq + 1, revision = revision + 1, update_time = now()
          WHERE id IN (
            SELECT id FROM tasks WHERE workspace = ${RAW_WORKSPACE} AND state IN (${TaskState.RUNNING}, ${TaskState.STOPPING}) AND lease_until < now()
            LIMIT 100 FOR UPDATE SKIP LOCKED)
          RETURNING id, last_seq
        ), e AS (
          INSERT INTO task_events (task_id, seq, kind, payload)
          SELECT id, last_seq, 1, ${json({ state: TaskState.QUEUED, previousState: TaskState.RUNNING, message: "lease lost" })}::jsonb FROM s
        )
        SELECT id, pg_notify(${RAW_CHANNEL}, 'e ' || id || ' ' || last_seq) FROM s`;
      return rows.map((r) => r.id);
    },
    async state(id) {
      const [row] = await sql<{ state: number }[]>`SELECT state FROM tasks WHERE id = ${id}`;
      return row!.state;
    },
    async finish(id) {
      await sql`UPDATE tasks SET state = ${TaskState.SUCCEEDED}, worker = '', lease_token = '', lease_until = NULL, end_time = now() WHERE id = ${id}`;
    },
    async finishAll() {
      await sql`
        UPDATE tasks SET state = ${TaskState.SUCCEEDED}, worker = '', lease_token = '', lease_until = NULL, end_time = now()
        WHERE workspace = ${RAW_WORKSPACE} AND state IN (${TaskState.QUEUED}, ${TaskState.RUNNING}, ${TaskState.STOPPING})`;
    },
    readAfter: (id, after) => readAfter(sql, id, after),
  };
  return side;
}

/** Lock and take the numbers, then the rows, as one transaction; refused when the lease is not the task's. */
async function report(sql: Sql, t: RawTask, b: ReportBody, leaseSeconds: number): Promise<void> {
  const n = 2 + b.lines.length;
  const bytes = b.lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
  const latest = Object.fromEntries(b.points.map((p) => [p.name, p.value]));
  const progress = { ...b.progress, reportTime: new Date().toISOString() };
  await sql.begin(async (tx) => {
    const [row] = await tx<{ last_seq: string }[]>`
      UPDATE tasks SET last_seq = last_seq + ${n}, lease_until = now() + make_interval(secs => ${leaseSeconds}),
        progress = ${json(progress)}::jsonb, metrics = metrics || ${json(latest)}::jsonb,
        lines_recorded = ${b.firstLine + b.lines.length}, log_bytes = log_bytes + ${bytes}
      WHERE id = ${t.id} AND lease_token = ${t.leaseToken} AND state IN (${TaskState.RUNNING}, ${TaskState.STOPPING})
      RETURNING last_seq`;
    if (!row) throw new Error(`baseline: lease lost on ${t.id}`);
    const last = Number(row.last_seq);
    const first = last - n + 1;
    const time = new Date();
    await tx`INSERT INTO task_events (task_id, seq, kind, payload) VALUES (${t.id}, ${first}, 2, ${json(progress)}::jsonb)`;
    const points = b.points.map((p) => ({ task_id: t.id, name: p.name, step: p.step, value: p.value, epoch: p.epoch, seq: first + 1, time }));
    await tx`INSERT INTO task_metrics ${tx(points, "task_id", "name", "step", "value", "epoch", "seq", "time")} ON CONFLICT DO NOTHING`;
    const lines = b.lines.map((text, i) => ({ task_id: t.id, seq: first + 2 + i, attempt: t.attempt, text, stream: "stdout", time }));
    await tx`INSERT INTO task_logs ${tx(lines, "task_id", "seq", "attempt", "text", "stream", "time")}`;
    await tx`SELECT pg_notify(${RAW_CHANNEL}, ${`e ${t.id} ${last}`})`;
  });
}

async function writeLogs(sql: Sql, t: RawTask, texts: string[], capBytes: number, leaseSeconds: number): Promise<void> {
  const bytes = texts.reduce((s, l) => s + Buffer.byteLength(l), 0);
  await sql.begin(async (tx) => {
    const [row] = await tx<{ last_seq: string; log_bytes: string }[]>`
      UPDATE tasks SET last_seq = last_seq + ${texts.length}, lease_until = now() + make_interval(secs => ${leaseSeconds}),
        lines_recorded = lines_recorded + ${texts.length}, log_bytes = log_bytes + ${bytes}
      WHERE id = ${t.id} AND lease_token = ${t.leaseToken} RETURNING last_seq, log_bytes`;
    if (!row) throw new Error(`baseline: lease lost on ${t.id}`);
    const first = Number(row.last_seq) - texts.length + 1;
    const time = new Date();
    const lines = texts.map((text, i) => ({ task_id: t.id, seq: first + i, attempt: t.attempt, text, stream: "stdout", time }));
    await tx`INSERT INTO task_logs ${tx(lines, "task_id", "seq", "attempt", "text", "stream", "time")}`;
    const held = Number(row.log_bytes);
    if (held > capBytes) {
      // The oldest lines whose bytes add up to the excess, in one pass over the task's lines.
      const excess = held - Math.floor(capBytes * 0.9);
      const [freed] = await tx<{ bytes: string | null; n: string }[]>`
        WITH cut AS (
          SELECT seq FROM (SELECT seq, sum(octet_length(text)) OVER (ORDER BY seq) AS running FROM task_logs WHERE task_id = ${t.id}) s
          WHERE running >= ${excess} ORDER BY seq LIMIT 1
        ), gone AS (
          DELETE FROM task_logs WHERE task_id = ${t.id} AND seq <= (SELECT seq FROM cut) RETURNING octet_length(text) AS b
        )
        SELECT sum(b) AS bytes, count(*) AS n FROM gone`;
      await tx`UPDATE tasks SET log_bytes = log_bytes - ${Number(freed!.bytes ?? 0)}, dropped_lines = dropped_lines + ${Number(freed!.n)} WHERE id = ${t.id}`;
    }
    await tx`SELECT pg_notify(${RAW_CHANNEL}, ${`e ${t.id} ${row.last_seq}`})`;
  });
}

const PAGE = 500;

/** The server's watch read: the last seq, then the three sources by seq (at most PAGE rows each) in parallel. */
async function readAfter(sql: Sql, id: string, after: number): Promise<{ through: number; more: boolean; lines: string[] }> {
  const [task] = await sql<{ last_seq: string }[]>`SELECT last_seq FROM tasks WHERE id = ${id}`;
  const upto = Number(task!.last_seq);
  if (upto <= after) return { through: after, more: false, lines: [] };
  const [events, logs, points] = await Promise.all([
    sql<{ seq: string }[]>`SELECT seq, kind, payload, time FROM task_events WHERE task_id = ${id} AND seq > ${after} AND seq <= ${upto} ORDER BY seq LIMIT ${PAGE}`,
    sql<{ seq: string; text: string }[]>`SELECT seq, attempt, text, stream, time FROM task_logs WHERE task_id = ${id} AND seq > ${after} AND seq <= ${upto} ORDER BY seq LIMIT ${PAGE}`,
    sql<{ seq: string }[]>`SELECT seq, name, step, value, epoch, time FROM task_metrics WHERE task_id = ${id} AND seq > ${after} AND seq <= ${upto} ORDER BY seq, name, step LIMIT ${PAGE * 10}`,
  ]);
  let through = upto;
  // A source cut short is whole up to its last row (metric points: up to the report before it, whose points may go on).
  if (events.length >= PAGE) through = Math.min(through, Number(events.at(-1)!.seq));
  if (logs.length >= PAGE) through = Math.min(through, Number(logs.at(-1)!.seq));
  if (points.length >= PAGE * 10) through = Math.min(through, Number(points.at(-1)!.seq) - 1);
  return { through, more: through < upto, lines: logs.filter((l) => Number(l.seq) <= through).map((l) => l.text) };
}
