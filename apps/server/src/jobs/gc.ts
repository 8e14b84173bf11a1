// Garbage collection of files: upload sessions that expired or lost their
// version, workspace holdings no version (committed or staged), no session
// and no export archive references any longer, and stored content no workspace holds.
//
// Content is deleted only under its advisory lock (see
// domain/files/blob-holdings.ts), only when no upload session of any workspace
// wants it, and only when no upload claimed it within the grace period, so
// it never disappears under an upload that is about to reference it.
import { blobs, type Database, jobs, uploadSessions } from "@modelreg/db";
import { sql } from "drizzle-orm";
import { lockDigest } from "../domain/files/blob-holdings.js";
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
  const grace = sql`now() - make_interval(secs => ${graceMs / 1000})`;
  const result: GcResult = { sessionsRemoved: 0, holdingsReleased: 0, blobsDeleted: 0, bytesFreed: 0, abandonedPutsRemoved: 0 };

  // 1. Sessions that expired or whose version was deleted: rows, then their staged bytes.
  for (;;) {
    const gone = rowsOf<{ id: string; complete: boolean }>(
      await db.execute(sql`
        DELETE FROM ${uploadSessions} WHERE id IN (
          SELECT id FROM ${uploadSessions} WHERE expire_time < now() OR version_id IS NULL LIMIT ${BATCH}
        ) RETURNING id, complete`),
    );
    for (const s of gone) if (!s.complete) await store.abortStaging(s.id);
    result.sessionsRemoved += gone.length;
    if (gone.length < BATCH) break;
  }

  // 2. Holdings nothing in their workspace refers to any longer.
  const released = rowsOf<{ sha256: string }>(
    await db.execute(sql`
      DELETE FROM workspace_blobs wb
      WHERE wb.create_time < ${grace}
        AND NOT EXISTS (
          SELECT 1 FROM version_files f JOIN versions v ON v.id = f.version_id JOIN models m ON m.id = v.model_id
          WHERE f.sha256 = wb.sha256 AND m.workspace = wb.workspace)
        AND NOT EXISTS (SELECT 1 FROM upload_sessions s WHERE s.sha256 = wb.sha256 AND s.workspace = wb.workspace)
        AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.sha256 = wb.sha256 AND e.workspace = wb.workspace)
      RETURNING wb.sha256`),
  );
  result.holdingsReleased = released.length;

  // 3. Content no workspace holds: row and object, one digest at a time under its lock.
  const orphaned = () => sql`
    NOT EXISTS (SELECT 1 FROM workspace_blobs wb WHERE wb.sha256 = ${blobs.sha256})
    AND NOT EXISTS (SELECT 1 FROM upload_sessions s WHERE s.sha256 = ${blobs.sha256})
    AND ${blobs.claimTime} < ${grace}`;
  for (;;) {
    const candidates = await db.select({ sha256: blobs.sha256 }).from(blobs).where(orphaned()).limit(BATCH);
    for (const { sha256 } of candidates) {
      const deleted = await db.transaction(async (tx) => {
        await lockDigest(tx, sha256);
        const [row] = await tx
          .delete(blobs)
          .where(sql`${blobs.sha256} = ${sha256} AND ${orphaned()}`)
          .returning({ size: blobs.size });
        // Inside the transaction, under the lock: an upload claiming this
        // digest waits until the object is gone, then writes it anew.
        if (row) await store.delete(sha256);
        return row;
      });
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
