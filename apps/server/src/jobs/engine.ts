// The job engine: background work as rows in the jobs table, shared by any
// number of server processes on one database (PGlite or PostgreSQL).
//
// - enqueue() inserts a row (in the caller's transaction when given one).
// - Each process polls; a claim is one UPDATE ... WHERE id = (SELECT ... FOR
//   UPDATE SKIP LOCKED LIMIT 1): two processes never take the same job.
//   Claimable: queued jobs whose run_after has come, and running jobs whose
//   lease ran out (their process died).
// - While a handler runs, its lease is renewed every leaseMs/3; the renewal
//   also reads cancel_requested, which aborts the handler's signal.
// - A handler that throws is retried with exponential back-off until
//   max_attempts, then the job is FAILED with the last error kept (and the
//   kind's onFailed hook runs). A handler that throws PermanentJobError is
//   not retried.
//
// Why not pg-boss or graphile-worker: both need the `pg` driver and a
// connection pool of their own (LISTEN/NOTIFY, advisory locks across
// sessions), which the embedded PGlite default cannot give; the engine here
// is one table and three statements that run on both.
import { randomUUID } from "node:crypto";
import { type Database, jobs, type JobRow } from "@modelreg/db";
import { and, eq, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { JobQueue } from "../domain/ports/job-queue.js";
import { rowsOf } from "../domain/shared/raw-rows.js";
import type { Logger } from "../logger.js";

export const JOB_STATE = { QUEUED: 1, RUNNING: 2, SUCCEEDED: 3, FAILED: 4, CANCELLED: 5 } as const;

/** Thrown by a handler: fail now, do not retry (bad input, a version that vanished). */
export class PermanentJobError extends Error {}

/** Thrown by a handler that learnt on its own that its work was cancelled: the job ends CANCELLED. */
export class JobCancelledError extends Error {}

export interface JobContext {
  job: JobRow;
  /** Aborted when the job is cancelled or the engine stops. */
  signal: AbortSignal;
  /** 1 for the first try. */
  attempt: number;
  isLastAttempt: boolean;
}

export interface JobKind {
  run(payload: Record<string, unknown>, ctx: JobContext): Promise<void>;
  /** After the last failed attempt (or a permanent failure). */
  onFailed?(payload: Record<string, unknown>, error: string, job: JobRow): Promise<void>;
  /** After a cancellation reached the job (running or queued). */
  onCancelled?(payload: Record<string, unknown>, job: JobRow): Promise<void>;
}

export interface JobEngineOptions {
  db: Database;
  logger: Logger;
  kinds: Record<string, JobKind>;
  /** Jobs this process runs at once (default 2). */
  concurrency?: number;
  /** Lease length (default 30 s); renewed every third of it. */
  leaseMs?: number;
  /** How often an idle engine looks for work (default 1 s). */
  pollMs?: number;
  /** First retry delay, doubled each attempt (default 2 s, at most 5 min). */
  backoffMs?: number;
  /** Identifies this process in lease_owner. */
  owner?: string;
}

/** The domain's JobQueue (enqueue, cancel, poke), run by this process's workers. */
export interface JobEngine extends JobQueue {
  /** Starts polling. */
  start(): void;
  /** Stops claiming, aborts running handlers, waits for them. */
  stop(): Promise<void>;
  /** Resolves when this process runs nothing and no job of its kinds is queued or running (retries included). */
  idle(): Promise<void>;
  readonly owner: string;
}

export function createJobEngine(opts: JobEngineOptions): JobEngine {
  const { db, logger, kinds } = opts;
  const concurrency = opts.concurrency ?? 2;
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 1000;
  const backoffMs = opts.backoffMs ?? 2000;
  const owner = opts.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;
  let polling: Promise<void> | undefined;
  const kindList = Object.keys(kinds);

  async function claim(): Promise<JobRow | undefined> {
    const result = await db.execute(sql`
      UPDATE ${jobs} SET state = ${JOB_STATE.RUNNING}, attempts = attempts + 1, lease_owner = ${owner},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}), update_time = now()
      WHERE id = (
        SELECT id FROM ${jobs}
        WHERE kind IN (${sql.join(kindList.map((k) => sql`${k}`), sql`, `)})
          AND NOT cancel_requested
          AND ((state = ${JOB_STATE.QUEUED} AND run_after <= now()) OR (state = ${JOB_STATE.RUNNING} AND lease_until < now()))
        ORDER BY run_after
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING *`);
    const raw = rowsOf<Record<string, unknown>>(result)[0];
    return raw ? toJob(raw) : undefined;
  }

  /** Renews the lease; false when it is lost (another process took over) or cancellation was asked for. */
  async function renew(job: JobRow): Promise<{ held: boolean; cancel: boolean }> {
    const [row] = await db
      .update(jobs)
      .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})`, updateTime: sql`now()` })
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, owner), eq(jobs.state, JOB_STATE.RUNNING)))
      .returning({ cancel: jobs.cancelRequested });
    return { held: row !== undefined, cancel: row?.cancel ?? false };
  }

  async function finish(job: JobRow, set: PgUpdateSetSource<typeof jobs>): Promise<boolean> {
    const rows = await db
      .update(jobs)
      .set({ ...set, leaseOwner: "", leaseUntil: null, updateTime: sql`now()` })
      .where(and(eq(jobs.id, job.id), eq(jobs.leaseOwner, owner), eq(jobs.state, JOB_STATE.RUNNING)))
      .returning({ id: jobs.id });
    return rows.length > 0;
  }

  async function execute(job: JobRow, abort: AbortController): Promise<void> {
    const kind = kinds[job.kind]!;
    let cancelled = false;
    let lost = false;
    const heartbeat = setInterval(() => {
      renew(job)
        .then(({ held, cancel }) => {
          if (!held) lost = true;
          if (cancel) cancelled = true;
          if (!held || cancel) abort.abort(new Error(cancel ? "the job was cancelled" : "the job's lease was lost"));
        })
        .catch((err: unknown) => logger.warn({ err, job: job.id }, "could not renew a job's lease; retrying"));
    }, Math.max(50, Math.floor(leaseMs / 3)));
    const attempt = job.attempts;
    try {
      await kind.run(job.payload, { job, signal: abort.signal, attempt, isLastAttempt: attempt >= job.maxAttempts });
      clearInterval(heartbeat);
      if (abort.signal.aborted && cancelled) throw abort.signal.reason;
      await finish(job, { state: JOB_STATE.SUCCEEDED, lastError: "" });
    } catch (err) {
      clearInterval(heartbeat);
      const message = err instanceof Error ? err.message : String(err);
      if (stopped && !cancelled) {
        // Shutting down: hand the job back at once for another process.
        await finish(job, { state: JOB_STATE.QUEUED, attempts: sql`${jobs.attempts} - 1`, runAfter: sql`now()` });
        return;
      }
      if (lost) return; // another process owns it now
      if (cancelled || err instanceof JobCancelledError) {
        if (await finish(job, { state: JOB_STATE.CANCELLED, lastError: "cancelled" })) await kind.onCancelled?.(job.payload, job);
        return;
      }
      const permanent = err instanceof PermanentJobError;
      if (!permanent && attempt < job.maxAttempts) {
        const delay = Math.min(300_000, backoffMs * 2 ** (attempt - 1));
        logger.warn({ job: job.id, kind: job.kind, attempt, err: message, retryInMs: delay }, "job failed; it will be retried");
        await finish(job, { state: JOB_STATE.QUEUED, lastError: message, runAfter: sql`now() + make_interval(secs => ${delay / 1000})` });
      } else {
        logger.error({ job: job.id, kind: job.kind, attempt, err: message }, "job failed for good");
        if (await finish(job, { state: JOB_STATE.FAILED, lastError: message })) await kind.onFailed?.(job.payload, message, job);
      }
    }
  }

  async function poll(): Promise<void> {
    while (!stopped && running.size < concurrency) {
      let job: JobRow | undefined;
      try {
        job = await claim();
      } catch (err) {
        logger.warn({ err }, "could not look for jobs; trying again shortly");
        return;
      }
      if (!job) return;
      const abort = new AbortController();
      const id = job.id;
      const done = execute(job, abort)
        .catch((err: unknown) => logger.error({ err, job: id }, "job bookkeeping failed"))
        .finally(() => {
          running.delete(id);
          if (!stopped) engine.poke();
        });
      running.set(id, { abort, done });
    }
  }

  const engine: JobEngine = {
    owner,
    async enqueue(kind, payload, o = {}) {
      const [row] = await (o.tx ?? db)
        .insert(jobs)
        .values({ kind, payload, maxAttempts: o.maxAttempts ?? 5 })
        .returning({ id: jobs.id });
      if (!o.tx) engine.poke();
      return row!.id;
    },
    async cancel(id, tx) {
      const q = tx ?? db;
      const [queued] = await q
        .update(jobs)
        .set({ state: JOB_STATE.CANCELLED, cancelRequested: true, lastError: "cancelled", updateTime: sql`now()` })
        .where(and(eq(jobs.id, id), eq(jobs.state, JOB_STATE.QUEUED)))
        .returning();
      if (queued) {
        await kinds[queued.kind]?.onCancelled?.(queued.payload, queued);
        return;
      }
      await q.update(jobs).set({ cancelRequested: true, updateTime: sql`now()` }).where(and(eq(jobs.id, id), eq(jobs.state, JOB_STATE.RUNNING)));
    },
    start() {
      if (timer || stopped) return;
      started = true;
      timer = setInterval(() => engine.poke(), pollMs);
      timer.unref();
      engine.poke();
    },
    poke() {
      if (!started || stopped || polling) return;
      polling = poll().finally(() => {
        polling = undefined;
      });
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await polling;
      for (const r of running.values()) r.abort.abort(new Error("the server is shutting down"));
      await Promise.all([...running.values()].map((r) => r.done));
    },
    async idle() {
      for (;;) {
        await polling;
        await Promise.all([...running.values()].map((r) => r.done));
        const [pending] = await db
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            sql`${jobs.state} IN (${JOB_STATE.QUEUED}, ${JOB_STATE.RUNNING}) AND NOT ${jobs.cancelRequested} AND ${jobs.kind} IN (${sql.join(kindList.map((k) => sql`${k}`), sql`, `)})`,
          )
          .limit(1);
        if (!pending && running.size === 0) return;
        engine.poke();
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  return engine;
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
