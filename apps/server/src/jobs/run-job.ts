// One run of a claimed job: the kind's handler under a lease heartbeat, then
// its outcome written back. While the handler runs, its lease is renewed
// every leaseMs/3; the renewal also reads cancel_requested, which aborts the
// handler's signal. A handler that throws is retried with exponential
// back-off until max_attempts, then the job is FAILED with the last error
// kept (and the kind's onFailed hook runs); one that throws PermanentJobError
// is not retried. When the engine stops, the job is handed back at once.
import { type Database, jobs, type JobRow } from "@modelreg/db";
import { sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Logger } from "../logger.js";
import { JobCancelledError, type JobKind, PermanentJobError } from "./job-kind.js";
import { finishJob, JOB_STATE, type Lessee, renewLease } from "./job-sql.js";

/** What a run needs from its engine; `stopped` is read when the handler ends, so it must be live. */
export interface RunnerState extends Lessee {
  db: Database;
  logger: Logger;
  kinds: Record<string, JobKind>;
  backoffMs: number;
  readonly stopped: boolean;
}

/** Runs `job` (claimed by this engine) to its end; `abort` aborts the handler's signal. */
export async function runJob(engine: RunnerState, job: JobRow, abort: AbortController): Promise<void> {
  const { db, logger, kinds, owner, leaseMs, backoffMs } = engine;
  const renew = (j: JobRow) => renewLease(db, engine, j);
  const finish = (j: JobRow, set: PgUpdateSetSource<typeof jobs>) => finishJob(db, owner, j, set);
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
    if (engine.stopped && !cancelled) {
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
