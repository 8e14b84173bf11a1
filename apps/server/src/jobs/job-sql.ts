// Every statement the engine runs on the jobs table, which it owns: queueing,
// claiming, lease renewal, finishing, cancelling, ending the jobs whose
// process is gone and that must not run again, the check idle() makes,
// pruning finished jobs (garbage collection), and counting them (metrics).
// A claim is one UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED
// LIMIT 1), so two processes never take the same job; every later write
// matches on lease_owner and state, so a process that lost its lease writes
// nothing.
import { type Database, jobs, type JobRow, type Tx } from "@modelreg/db";
import { and, eq, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { rowsOf } from "../domain/shared/raw-rows.js";

export const JOB_STATE = { QUEUED: 1, RUNNING: 2, SUCCEEDED: 3, FAILED: 4, CANCELLED: 5 } as const;

/** Who holds leases and for how long: one engine process. */
export interface Lessee {
  owner: string;
  leaseMs: number;
}

/** Inserts a queued job; returns its id. */
export async function insertJob(q: Database | Tx, kind: string, payload: Record<string, unknown>, maxAttempts: number): Promise<string> {
  const [row] = await q.insert(jobs).values({ kind, payload, maxAttempts }).returning({ id: jobs.id });
  return row!.id;
}

const kindIn = (kindList: string[]) => sql`kind IN (${sql.join(kindList.map((k) => sql`${k}`), sql`, `)})`;

/**
 * Takes the next job of `kindList` for `lessee`: queued jobs whose run_after
 * has come, and running jobs whose lease ran out (their process died) with
 * tries left; endAbandonedJobs() ends the others.
 */
export async function claimJob(db: Database, lessee: Lessee, kindList: string[]): Promise<JobRow | undefined> {
  const { owner, leaseMs } = lessee;
  const result = await db.execute(sql`
      UPDATE ${jobs} SET state = ${JOB_STATE.RUNNING}, attempts = attempts + 1, lease_owner = ${owner},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}), update_time = now()
      WHERE id = (
        SELECT id FROM ${jobs}
        WHERE ${kindIn(kindList)}
          AND NOT cancel_requested
          AND ((state = ${JOB_STATE.QUEUED} AND run_after <= now())
            OR (state = ${JOB_STATE.RUNNING} AND lease_until < now() AND attempts < max_attempts))
        ORDER BY run_after
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING *`);
  const raw = rowsOf<Record<string, unknown>>(result)[0];
  return raw ? toJob(raw) : undefined;
}

/** Renews the lease; false when it is lost (another process took over) or cancellation was asked for. */
export async function renewLease(db: Database, lessee: Lessee, job: JobRow): Promise<{ held: boolean; cancel: boolean }> {
  const { owner, leaseMs } = lessee;
  const [row] = await db
    .update(jobs)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`, updateTime: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, owner), eq(jobs.state, JOB_STATE.RUNNING)))
    .returning({ cancel: jobs.cancelRequested });
  return { held: row !== undefined, cancel: row?.cancel ?? false };
}

/** Ends `owner`'s run of a job with `set` and drops the lease; false when the lease was no longer held. */
export async function finishJob(db: Database, owner: string, job: JobRow, set: PgUpdateSetSource<typeof jobs>): Promise<boolean> {
  const rows = await db
    .update(jobs)
    .set({ ...set, leaseOwner: "", leaseUntil: null, updateTime: sql`now()` })
    .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, owner), eq(jobs.state, JOB_STATE.RUNNING)))
    .returning({ id: jobs.id });
  return rows.length > 0;
}

/** Cancels a job that is still queued; returns it, or undefined when it was not queued. */
export async function cancelQueuedJob(q: Database | Tx, id: string): Promise<JobRow | undefined> {
  const [queued] = await q
    .update(jobs)
    .set({ state: JOB_STATE.CANCELLED, cancelRequested: true, lastError: "cancelled", updateTime: sql`now()` })
    .where(and(eq(jobs.id, id), eq(jobs.state, JOB_STATE.QUEUED)))
    .returning();
  return queued;
}

/** Marks a running job for cancellation; its process sees it at the next lease renewal. */
export async function requestCancel(q: Database | Tx, id: string): Promise<void> {
  await q.update(jobs).set({ cancelRequested: true, updateTime: sql`now()` }).where(and(eq(jobs.id, id), eq(jobs.state, JOB_STATE.RUNNING)));
}

/** Why a job is FAILED whose last try's process died. */
export const ABANDONED_ERROR = "the server running its last try stopped before it ended (its lease ran out)";

/**
 * Ends the jobs of `kindList` that no process will finish and that must not
 * run again, and returns them: CANCELLED, those cancelled while their
 * process was gone (its lease ran out) or while handed back to the queue;
 * FAILED, those whose process died on their last try.
 */
export async function endAbandonedJobs(db: Database, kindList: string[]): Promise<JobRow[]> {
  const result = await db.execute(sql`
      UPDATE ${jobs}
      SET state = CASE WHEN cancel_requested THEN ${JOB_STATE.CANCELLED}::smallint ELSE ${JOB_STATE.FAILED}::smallint END,
          last_error = CASE WHEN cancel_requested THEN 'cancelled' ELSE ${ABANDONED_ERROR}::text END,
          lease_owner = '', lease_until = NULL, update_time = now()
      WHERE id IN (
        SELECT id FROM ${jobs}
        WHERE ${kindIn(kindList)}
          AND ((state = ${JOB_STATE.QUEUED} AND cancel_requested)
            OR (state = ${JOB_STATE.RUNNING} AND lease_until < now() AND (cancel_requested OR attempts >= max_attempts)))
        FOR UPDATE SKIP LOCKED)
      RETURNING *`);
  return rowsOf<Record<string, unknown>>(result).map(toJob);
}

/** True when a job of `kindList` is queued or running and not being cancelled. */
export async function hasPendingJob(db: Database, kindList: string[]): Promise<boolean> {
  const [pending] = await db
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      sql`${jobs.state} IN (${JOB_STATE.QUEUED}, ${JOB_STATE.RUNNING}) AND NOT ${jobs.cancelRequested} AND ${jobs.kind} IN (${sql.join(kindList.map((k) => sql`${k}`), sql`, `)})`,
    )
    .limit(1);
  return pending !== undefined;
}

/** Deletes finished jobs last changed longer ago than `kept` (a PostgreSQL interval); answers how many. */
export async function pruneFinishedJobs(db: Database, kept: string): Promise<number> {
  const result = await db.execute(
    sql`DELETE FROM ${jobs} WHERE state IN (${JOB_STATE.SUCCEEDED}, ${JOB_STATE.FAILED}, ${JOB_STATE.CANCELLED}) AND update_time < now() - ${kept}::interval RETURNING id`,
  );
  return rowsOf<{ id: string }>(result).length;
}

/** How many jobs there are of each kind in each state (finished ones are pruned after a week, so the table stays small). */
export async function countJobs(db: Database): Promise<{ kind: string; state: number; count: number }[]> {
  const result = await db.execute(sql`SELECT kind, state, count(*)::int AS count FROM ${jobs} GROUP BY kind, state`);
  return rowsOf<{ kind: string; state: number; count: number }>(result).map((r) => ({ kind: r.kind, state: Number(r.state), count: Number(r.count) }));
}

function toJob(r: Record<string, unknown>): JobRow {
  const date = (v: unknown) => (v == null ? null : new Date(v as string));
  return {
    id: r.id as string,
    kind: r.kind as string,
    payload: r.payload as Record<string, unknown>,
    state: Number(r.state),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAfter: date(r.run_after)!,
    leaseOwner: r.lease_owner as string,
    leaseUntil: date(r.lease_until),
    cancelRequested: r.cancel_requested as boolean,
    lastError: r.last_error as string,
    createTime: date(r.create_time)!,
    updateTime: date(r.update_time)!,
  };
}
