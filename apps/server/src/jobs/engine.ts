// The job engine: background work as rows in the jobs table, shared by any
// number of server processes on one database (PGlite or PostgreSQL).
//
// - enqueue() inserts a row (in the caller's transaction when given one).
// - Each process polls; a claim is one UPDATE ... WHERE id = (SELECT ... FOR
//   UPDATE SKIP LOCKED LIMIT 1): two processes never take the same job.
//   Claimable: queued jobs whose run_after has come, and running jobs whose
//   lease ran out (their process died) with tries left.
// - Before it claims (at most once per pollMs), each process ends the jobs
//   that nobody will finish and that must not run again: cancelled ones
//   whose process is gone (lease over) or that were handed back to the
//   queue, and those whose process died on their last try (FAILED). The
//   kind's onCancelled or onFailed hook then runs, as for any other end, so
//   any replica closes them within about a lease length.
// - While a handler runs, its lease is renewed every leaseMs/3; the renewal
//   also reads cancel_requested, which aborts the handler's signal.
// - A handler that throws is retried with exponential back-off until
//   max_attempts, then the job is FAILED with the last error kept (and the
//   kind's onFailed hook runs). A handler that throws PermanentJobError is
//   not retried.
//
// Where it lives: this file is the engine's lifecycle and poll loop;
// job-sql.ts holds every statement on the jobs table (claim, lease, finish,
// cancel); run-job.ts runs one claimed job to its end (heartbeat, retries);
// job-kind.ts is the contract a handler implements.
//
// Why not pg-boss or graphile-worker: both need the `pg` driver and a
// connection pool of their own (LISTEN/NOTIFY, advisory locks across
// sessions), which the embedded PGlite default cannot give; the engine here
// is one table and three statements that run on both.
import { randomUUID } from "node:crypto";
import type { Database, JobRow, Tx } from "@modelreg/db";
import type { JobQueue } from "../domain/ports/job-queue.js";
import type { Logger } from "../logger.js";
import type { JobKind } from "./job-kind.js";
import { cancelQueuedJob, claimJob, endAbandonedJobs, hasPendingJob, insertJob, JOB_STATE, requestCancel } from "./job-sql.js";
import { type RunnerState, runJob } from "./run-job.js";

export { JobCancelledError, type JobContext, type JobKind, PermanentJobError } from "./job-kind.js";
export { JOB_STATE } from "./job-sql.js";

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

/** The options with their defaults, and what this process is doing now. */
interface EngineState extends RunnerState {
  concurrency: number;
  pollMs: number;
  kindList: string[];
  running: Map<string, { abort: AbortController; done: Promise<void> }>;
  timer: NodeJS.Timeout | undefined;
  started: boolean;
  stopped: boolean;
  polling: Promise<void> | undefined;
  /** A poke came while a poll was under way: poll again when it ends (its claim may have looked before the new job was there). */
  pokedMeanwhile: boolean;
  /** When this process last ended abandoned jobs (Date.now()). */
  sweptAt: number;
}

export function createJobEngine(opts: JobEngineOptions): JobEngine {
  const { db, logger, kinds } = opts;
  const s: EngineState = {
    db,
    logger,
    kinds,
    concurrency: opts.concurrency ?? 2,
    leaseMs: opts.leaseMs ?? 30_000,
    pollMs: opts.pollMs ?? 1000,
    backoffMs: opts.backoffMs ?? 2000,
    owner: opts.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`,
    kindList: Object.keys(kinds),
    running: new Map(),
    timer: undefined,
    started: false,
    stopped: false,
    polling: undefined,
    pokedMeanwhile: false,
    sweptAt: 0,
  };
  const engine: JobEngine = {
    owner: s.owner,
    async enqueue(kind, payload, o = {}) {
      const id = await insertJob(o.tx ?? db, kind, payload, o.maxAttempts ?? 5);
      if (!o.tx) engine.poke();
      return id;
    },
    cancel: (id, tx) => cancel(s, id, tx),
    start: () => start(s, engine),
    poke: () => poke(s, engine),
    stop: () => stop(s),
    idle: () => idle(s, engine),
  };
  return engine;
}

async function cancel(s: EngineState, id: string, tx?: Tx): Promise<void> {
  const q = tx ?? s.db;
  const queued = await cancelQueuedJob(q, id);
  if (queued) {
    await s.kinds[queued.kind]?.onCancelled?.(queued.payload, queued);
    return;
  }
  await requestCancel(q, id);
}

function start(s: EngineState, engine: JobEngine): void {
  if (s.timer || s.stopped) return;
  s.started = true;
  s.timer = setInterval(() => engine.poke(), s.pollMs);
  s.timer.unref();
  engine.poke();
}

function poke(s: EngineState, engine: JobEngine): void {
  if (!s.started || s.stopped) return;
  if (s.polling) {
    s.pokedMeanwhile = true;
    return;
  }
  s.pokedMeanwhile = false;
  s.polling = poll(s, engine).finally(() => {
    s.polling = undefined;
    // Not dropped: a job enqueued while the poll's claim was looking waits for no timer.
    if (s.pokedMeanwhile) engine.poke();
  });
}

/** Ends abandoned jobs (when due), then claims and starts jobs while this process has room for more. */
async function poll(s: EngineState, engine: JobEngine): Promise<void> {
  // Not on every poke (one comes after each job): at most once per pollMs.
  if (Date.now() - s.sweptAt >= s.pollMs) {
    s.sweptAt = Date.now();
    await endAbandoned(s);
  }
  while (!s.stopped && s.running.size < s.concurrency) {
    let job: JobRow | undefined;
    try {
      job = await claimJob(s.db, s, s.kindList);
    } catch (err) {
      s.logger.warn({ err }, "could not look for jobs; trying again shortly");
      return;
    }
    if (!job) return;
    const abort = new AbortController();
    const id = job.id;
    const done = runJob(s, job, abort)
      .catch((err: unknown) => s.logger.error({ err, job: id }, "job bookkeeping failed"))
      .finally(() => {
        s.running.delete(id);
        if (!s.stopped) engine.poke();
      });
    s.running.set(id, { abort, done });
  }
}

/** Ends the jobs no process will finish (endAbandonedJobs) and runs their kinds' hooks. */
async function endAbandoned(s: EngineState): Promise<void> {
  let ended: JobRow[];
  try {
    ended = await endAbandonedJobs(s.db, s.kindList);
  } catch (err) {
    s.logger.warn({ err }, "could not look for abandoned jobs; trying again shortly");
    return;
  }
  for (const job of ended) {
    const kind = s.kinds[job.kind]!;
    try {
      if (job.state === JOB_STATE.CANCELLED) await kind.onCancelled?.(job.payload, job);
      else {
        s.logger.error({ job: job.id, kind: job.kind, attempt: job.attempts, err: job.lastError }, "job failed for good");
        await kind.onFailed?.(job.payload, job.lastError, job);
      }
    } catch (err) {
      s.logger.error({ err, job: job.id }, "job bookkeeping failed");
    }
  }
}

async function stop(s: EngineState): Promise<void> {
  s.stopped = true;
  if (s.timer) clearInterval(s.timer);
  await s.polling;
  for (const r of s.running.values()) r.abort.abort(new Error("the server is shutting down"));
  // Said once every running handler has been told to stop: each job goes back to the queue as its handler ends.
  if (s.running.size > 0) s.logger.info({ jobs: [...s.running.keys()] }, "handing running jobs back to the queue");
  await Promise.all([...s.running.values()].map((r) => r.done));
}

async function idle(s: EngineState, engine: JobEngine): Promise<void> {
  for (;;) {
    await s.polling;
    await Promise.all([...s.running.values()].map((r) => r.done));
    const pending = await hasPendingJob(s.db, s.kindList);
    if (!pending && s.running.size === 0) return;
    engine.poke();
    await new Promise((r) => setTimeout(r, 20));
  }
}
