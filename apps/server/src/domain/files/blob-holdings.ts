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
import { and, eq, inArray, isNull, sql } from "drizzle-orm";

/** sha256 of zero bytes. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Serialises claims and deletions of one digest (transaction-scoped). */
export async function lockDigest(tx: Tx | Database, sha256: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`blob:${sha256}`}, 0))`);
}

/** Records (or renews the claim of) stored content, before it is published. */
export async function claimBlob(db: Database, sha256: string, size: number): Promise<void> {
  await db.transaction(async (tx) => {
    await lockDigest(tx, sha256);
    await tx
      .insert(blobs)
      .values({ sha256, size })
      .onConflictDoUpdate({ target: blobs.sha256, set: { claimTime: sql`now()` } });
  });
}

/** The workspace now holds the content (after it was published and verified). */
export async function recordHolding(tx: Tx | Database, workspace: string, sha256: string, md5: string): Promise<void> {
  await tx.insert(workspaceBlobs).values({ workspace, sha256 }).onConflictDoNothing();
  if (md5) await tx.update(blobs).set({ md5 }).where(and(eq(blobs.sha256, sha256), isNull(blobs.md5)));
}

/** Of `digests`, those the workspace holds. */
export async function heldBy(tx: Tx | Database, workspace: string, digests: string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (let i = 0; i < digests.length; i += 1000) {
    const rows = await tx
      .select({ sha256: workspaceBlobs.sha256 })
      .from(workspaceBlobs)
      .where(and(eq(workspaceBlobs.workspace, workspace), inArray(workspaceBlobs.sha256, digests.slice(i, i + 1000))));
    for (const r of rows) held.add(r.sha256);
  }
  return held;
}
