// Garbage collection of files: upload sessions that expired or lost their
// version, workspace holdings no version (committed or staged), no session
// and no export archive references any longer, and stored content no workspace holds.
//
// Content is deleted only under its advisory lock (see
// domain/files/blobs-sql.ts), only when no upload session of any workspace
// wants it, and only when no upload claimed it within the grace period, so
// it never disappears under an upload that is about to reference it.
import { type Database, jobs } from "@modelreg/db";
import { sql } from "drizzle-orm";
import { deleteLapsedSessions, deleteOrphanedBlob, orphanedBlobs, releaseUnreferencedHoldings } from "../domain/files/index.js";
import { rowsOf } from "../domain/shared/raw-rows.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import { JOB_STATE, type JobKind } from "./engine.js";

export interface GcResult {
  sessionsRemoved: number;
  holdingsReleased: number;
  blobsDeleted: number;
  bytesFreed: number;
  /** Temporary files of puts whose process died (an export's server killed mid-way). */
  abandonedPutsRemoved: number;
}

export interface GcOptions {
  db: Database;
  store: BlobStore;
  /** Unreferenced content younger than this (by its last claim or holding) is kept. */
  graceMs: number;
}

const BATCH = 500;

export async function collectGarbage({ db, store, graceMs }: GcOptions): Promise<GcResult> {
  const result: GcResult = { sessionsRemoved: 0, holdingsReleased: 0, blobsDeleted: 0, bytesFreed: 0, abandonedPutsRemoved: 0 };

  // 1. Sessions that expired or whose version was deleted: rows, then their staged bytes.
  for (;;) {
    const gone = await deleteLapsedSessions(db, BATCH);
    for (const s of gone) if (!s.complete) await store.abortStaging(s.id);
    result.sessionsRemoved += gone.length;
    if (gone.length < BATCH) break;
  }

  // 2. Holdings nothing in their workspace refers to any longer.
  result.holdingsReleased = await releaseUnreferencedHoldings(db, graceMs);

  // 3. Content no workspace holds: row and object, one digest at a time under its lock.
  for (;;) {
    const candidates = await orphanedBlobs(db, graceMs, BATCH);
    for (const sha256 of candidates) {
      const deleted = await deleteOrphanedBlob(db, store, sha256, graceMs);
      if (deleted) {
        result.blobsDeleted += 1;
        result.bytesFreed += deleted.size;
      }
    }
    if (candidates.length < BATCH) break;
  }

  // 4. What puts cut off by a dead process left behind.
  result.abandonedPutsRemoved = await store.sweepAbandoned(graceMs);
  return result;
}

export const GC_JOB = "gc";

/** Finished jobs are kept this long (for looking into what ran), then pruned by garbage collection. */
const FINISHED_JOBS_KEPT = "7 days";

/**
 * Garbage collection as a job kind on the engine, queued every
 * GC_INTERVAL_SECONDS by jobs/periodic.ts: one replica at a time runs it.
 */
export function gcJob(opts: GcOptions & { logger: Logger }): JobKind {
  return {
    async run() {
      const r = await collectGarbage(opts);
      const pruned = rowsOf<{ id: string }>(
        await opts.db.execute(sql`DELETE FROM ${jobs} WHERE state IN (${JOB_STATE.SUCCEEDED}, ${JOB_STATE.FAILED}, ${JOB_STATE.CANCELLED}) AND update_time < now() - ${FINISHED_JOBS_KEPT}::interval RETURNING id`),
      ).length;
      if (r.sessionsRemoved || r.holdingsReleased || r.blobsDeleted || r.abandonedPutsRemoved || pruned) opts.logger.info({ ...r, jobsPruned: pruned }, "garbage collection");
    },
  };
}
