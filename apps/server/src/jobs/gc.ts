// Garbage collection as a job kind on the engine, queued every
// GC_INTERVAL_SECONDS by jobs/periodic.ts, so one replica at a time runs
// it: the files domain removes what nothing refers to any longer (see
// domain/files/content.ts), and finished jobs past their keeping time are
// pruned from the engine's table.
import type { Database } from "@modelreg/db";
import { createContentDomain, type GcResult } from "../domain/files/index.js";
import type { BlobStore } from "../domain/ports/blob-store.js";
import type { Logger } from "../logger.js";
import type { JobKind } from "./engine.js";
import { pruneFinishedJobs } from "./job-sql.js";

export type { GcResult } from "../domain/files/index.js";

export interface GcOptions {
  db: Database;
  store: BlobStore;
  /** Unreferenced content younger than this (by its last claim or holding) is kept. */
  graceMs: number;
}

/** One collection of the files domain's garbage, now. */
export function collectGarbage({ db, store, graceMs }: GcOptions): Promise<GcResult> {
  return createContentDomain(db, store).collectGarbage(graceMs);
}

export const GC_JOB = "gc";

/** Finished jobs are kept this long (for looking into what ran), then pruned by garbage collection. */
const FINISHED_JOBS_KEPT = "7 days";

export function gcJob(opts: GcOptions & { logger: Logger }): JobKind {
  return {
    async run() {
      const r = await collectGarbage(opts);
      const pruned = await pruneFinishedJobs(opts.db, FINISHED_JOBS_KEPT);
      if (r.sessionsRemoved || r.holdingsReleased || r.blobsDeleted || r.abandonedPutsRemoved || pruned) opts.logger.info({ ...r, jobsPruned: pruned }, "garbage collection");
    },
  };
}
