// Stored content as a whole, beside the calls: what the garbage collector
// removes (lapsed upload sessions, holdings nothing refers to, content no
// workspace holds) and what the MD5 backfill fills in. Content is deleted
// only under its advisory lock (see blobs-sql.ts), only when no upload
// session of any workspace wants it, and only when no upload claimed it
// within the grace period, so it never disappears under an upload that is
// about to reference it.
import type { Database } from "@modelreg/db";
import type { BlobStore } from "../ports/blob-store.js";
import { blobsWithoutMd5, deleteOrphanedBlob, orphanedBlobs, releaseUnreferencedHoldings, setMissingMd5 } from "./blobs-sql.js";
import { deleteLapsedSessions } from "./sql.js";

export interface GcResult {
  sessionsRemoved: number;
  holdingsReleased: number;
  blobsDeleted: number;
  bytesFreed: number;
  /** Temporary files of puts whose process died (an export's server killed mid-way). */
  abandonedPutsRemoved: number;
}

export interface ContentDomain {
  /** Removes what nothing refers to any longer; content younger than graceMs (by its last claim or holding) is kept. */
  collectGarbage(graceMs: number): Promise<GcResult>;
  /** Stored content without an MD5 yet, at most `limit` digests. */
  withoutMd5(limit: number): Promise<string[]>;
  /** Records the MD5 of stored content where none is recorded yet (running twice is harmless). */
  setMd5(sha256: string, md5: string): Promise<void>;
}

export function createContentDomain(db: Database, store: BlobStore): ContentDomain {
  return {
    collectGarbage: (graceMs) => collectGarbage(db, store, graceMs),
    withoutMd5: (limit) => blobsWithoutMd5(db, limit),
    setMd5: (sha256, md5) => setMissingMd5(db, sha256, md5),
  };
}

const BATCH = 500;

async function collectGarbage(db: Database, store: BlobStore, graceMs: number): Promise<GcResult> {
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
