// Periodic jobs (garbage collection): each process ticks, but a run is
// queued only when none of the kind is queued or running and the last one
// was queued at least `everyMs` ago, checked under a transaction-scoped
// advisory lock. So however many replicas there are, the work runs once per
// interval, on whichever replica claims it, and never twice at once.
import { type Database, jobs } from "@modelreg/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Logger } from "../logger.js";
import { JOB_STATE, type JobEngine } from "./engine.js";

export interface PeriodicOptions {
  db: Database;
  engine: Pick<JobEngine, "enqueue" | "poke">;
  logger: Logger;
  kind: string;
  /** 0 = never. */
  everyMs: number;
  /** How often each process looks (default everyMs / 4, at most a minute). */
  tickMs?: number;
}

/** Queues `kind` when it is due; true when this call queued it. */
export async function queueIfDue(db: Database, engine: Pick<JobEngine, "enqueue">, kind: string, everyMs: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`periodic:${kind}`}, 0))`);
    const [last] = await tx
      .select({ live: sql<boolean>`bool_or(${inArray(jobs.state, [JOB_STATE.QUEUED, JOB_STATE.RUNNING])})`, recent: sql<boolean>`bool_or(${jobs.createTime} > now() - make_interval(secs => ${everyMs / 1000}))` })
      .from(jobs)
      .where(and(eq(jobs.kind, kind)));
    if (last?.live || last?.recent) return false;
    await engine.enqueue(kind, {}, { tx, maxAttempts: 1 });
    return true;
  });
}

/** Ticks until stopped; stop() resolves once a tick in flight has finished, so nothing is queued after it. */
export function schedulePeriodic(opts: PeriodicOptions): { stop(): Promise<void> } {
  if (opts.everyMs <= 0) return { stop: async () => {} };
  const tickMs = opts.tickMs ?? Math.min(60_000, Math.max(50, Math.floor(opts.everyMs / 4)));
  let inFlight: Promise<void> | undefined;
  const tick = () => {
    if (inFlight) return;
    inFlight = queueIfDue(opts.db, opts.engine, opts.kind, opts.everyMs)
      .then((queued) => {
        if (queued) opts.engine.poke();
      })
      .catch((err: unknown) => opts.logger.warn({ err, kind: opts.kind }, "could not queue a periodic job; trying again at the next tick"))
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(tick, tickMs);
  timer.unref();
  tick();
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
    },
  };
}
