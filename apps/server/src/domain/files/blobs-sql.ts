// Which content is stored (the blobs table) and which workspace holds it
// (workspace_blobs). A workspace is told content is present only when it
// holds it itself, so no workspace learns what another stores.
//
// Uploads and garbage collection meet here. An upload about to publish
// content first claims its row under a per-digest advisory lock (renewing
// claim_time); garbage collection deletes a blob, row and object, only
// under the same lock, only when nothing holds or uploads it and its claim
// is older than the grace period. So a blob is never deleted under an
// upload that has found it present.
import { blobs, type Database, workspaceBlobs, type Tx } from "@modelreg/db";
import { and, eq, inArray, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import type { BlobStore } from "../ports/blob-store.js";
import { inBatches } from "./batches.js";
import { rowsOf } from "../shared/raw-rows.js";

/** Serialises claims and deletions of one digest (transaction-scoped). */
export async function lockDigest(tx: Tx | Database, sha256: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`blob:${sha256}`}, 0))`);
}

/**
 * Records (or renews the claim of) stored content, before it is published;
 * with `headSha256` (the sha256 of its first MiB) when the caller knows it
 * already, kept if the row has none.
 */
export async function claimBlob(db: Database, sha256: string, size: number, headSha256?: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockDigest(tx, sha256);
    await tx
      .insert(blobs)
      .values({ sha256, size, headSha256 })
      .onConflictDoUpdate({ target: blobs.sha256, set: { claimTime: sql`now()`, headSha256: sql`coalesce(${blobs.headSha256}, excluded.head_sha256)` } });
  });
}

/** Records the sha256 of the content's first MiB where none is recorded yet. */
export async function setMissingHead(tx: Tx | Database, sha256: string, headSha256: string): Promise<void> {
  await tx.update(blobs).set({ headSha256 }).where(and(eq(blobs.sha256, sha256), isNull(blobs.headSha256)));
}

/**
 * Whether the workspace holds content of `size` bytes whose first MiB has
 * sha256 `headSha256`, or whose first-MiB digest is not recorded (content
 * stored before it was kept). Only the workspace's own holdings count, as
 * for staging.
 */
export async function mayHold(tx: Tx | Database, workspace: string, size: number, headSha256: string): Promise<boolean> {
  const rows = await tx
    .select({ one: sql<number>`1` })
    .from(blobs)
    .innerJoin(workspaceBlobs, and(eq(workspaceBlobs.sha256, blobs.sha256), eq(workspaceBlobs.workspace, workspace)))
    .where(and(eq(blobs.size, size), or(eq(blobs.headSha256, headSha256), isNull(blobs.headSha256))))
    .limit(1);
  return rows.length > 0;
}

/** The workspace now holds the content (after it was published and verified). */
export async function recordHolding(tx: Tx | Database, workspace: string, sha256: string, md5: string): Promise<void> {
  await tx.insert(workspaceBlobs).values({ workspace, sha256 }).onConflictDoNothing();
  if (md5) await setMissingMd5(tx, sha256, md5);
}

/** Of `digests`, those the workspace holds, with the stored size of each. */
export async function heldSizes(tx: Tx | Database, workspace: string, digests: string[]): Promise<Map<string, number>> {
  const rows = await inBatches(digests, (batch) =>
    tx
      .select({ sha256: workspaceBlobs.sha256, size: blobs.size })
      .from(workspaceBlobs)
      .innerJoin(blobs, eq(blobs.sha256, workspaceBlobs.sha256))
      .where(and(eq(workspaceBlobs.workspace, workspace), inArray(workspaceBlobs.sha256, batch))),
  );
  return new Map(rows.map((r) => [r.sha256, r.size]));
}

/** Of `digests`, those stored with an md5 computed, with their md5. */
export async function md5sOf(tx: Tx | Database, digests: string[]): Promise<Map<string, string>> {
  const rows = await inBatches(digests, (batch) =>
    tx
      .select({ sha256: blobs.sha256, md5: blobs.md5 })
      .from(blobs)
      .where(and(inArray(blobs.sha256, batch), isNotNull(blobs.md5))),
  );
  return new Map(rows.map((r) => [r.sha256, r.md5!]));
}

/** Records the md5 of content that has none yet (a second computation changes nothing). */
export async function setMissingMd5(tx: Tx | Database, sha256: string, md5: string): Promise<void> {
  await tx.update(blobs).set({ md5 }).where(and(eq(blobs.sha256, sha256), isNull(blobs.md5)));
}

/** Up to `limit` stored contents whose md5 is not computed yet. */
export async function blobsWithoutMd5(db: Database, limit: number): Promise<string[]> {
  const rows = await db.select({ sha256: blobs.sha256 }).from(blobs).where(isNull(blobs.md5)).limit(limit);
  return rows.map((r) => r.sha256);
}

/** The moment before which unreferenced content may go. */
const graceCutoff = (graceMs: number): SQL => sql`now() - make_interval(secs => ${graceMs / 1000})`;

/**
 * Deletes holdings older than the grace period that nothing in their
 * workspace refers to any longer (no version's files, committed or staged,
 * no task's checkpoint, input or output files, no upload session, no export
 * archive); returns how many.
 */
export async function releaseUnreferencedHoldings(db: Database, graceMs: number): Promise<number> {
  const released = rowsOf<{ sha256: string }>(
    await db.execute(sql`
      DELETE FROM workspace_blobs wb
      WHERE wb.create_time < ${graceCutoff(graceMs)}
        AND NOT EXISTS (
          SELECT 1 FROM version_files f JOIN versions v ON v.id = f.version_id JOIN models m ON m.id = v.model_id
          WHERE f.sha256 = wb.sha256 AND m.workspace = wb.workspace)
        AND NOT EXISTS (
          SELECT 1 FROM task_checkpoint_files f JOIN task_checkpoints c ON c.id = f.checkpoint_id JOIN tasks t ON t.id = c.task_id
          WHERE f.sha256 = wb.sha256 AND t.workspace = wb.workspace)
        AND NOT EXISTS (SELECT 1 FROM task_files f JOIN tasks t ON t.id = f.task_id WHERE f.sha256 = wb.sha256 AND t.workspace = wb.workspace)
        AND NOT EXISTS (SELECT 1 FROM upload_sessions s WHERE s.sha256 = wb.sha256 AND s.workspace = wb.workspace)
        AND NOT EXISTS (SELECT 1 FROM exports e WHERE e.sha256 = wb.sha256 AND e.workspace = wb.workspace)
      RETURNING wb.sha256`),
  );
  return released.length;
}

/** Content no workspace holds, no upload session of any workspace wants, and no upload claimed within the grace period. */
const orphaned = (grace: SQL) => sql`
    NOT EXISTS (SELECT 1 FROM workspace_blobs wb WHERE wb.sha256 = ${blobs.sha256})
    AND NOT EXISTS (SELECT 1 FROM upload_sessions s WHERE s.sha256 = ${blobs.sha256})
    AND ${blobs.claimTime} < ${grace}`;

/** Up to `limit` digests of orphaned content (see orphaned()). */
export async function orphanedBlobs(db: Database, graceMs: number, limit: number): Promise<string[]> {
  const rows = await db.select({ sha256: blobs.sha256 }).from(blobs).where(orphaned(graceCutoff(graceMs))).limit(limit);
  return rows.map((r) => r.sha256);
}

/** Deletes the content, row and object, under its lock if it is still orphaned; returns its size then. */
export async function deleteOrphanedBlob(db: Database, store: BlobStore, sha256: string, graceMs: number): Promise<{ size: number } | undefined> {
  return db.transaction(async (tx) => {
    await lockDigest(tx, sha256);
    const [row] = await tx
      .delete(blobs)
      .where(sql`${blobs.sha256} = ${sha256} AND ${orphaned(graceCutoff(graceMs))}`)
      .returning({ size: blobs.size });
    // Inside the transaction, under the lock: an upload claiming this
    // digest waits until the object is gone, then writes it anew.
    if (row) await store.delete(sha256);
    return row;
  });
}
