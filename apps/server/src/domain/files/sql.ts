// The queries of version files and upload sessions (the content itself and
// its holdings are in blobs-sql.ts).
import { blobs, type Database, modelAliases, models, tasks, type UploadSessionRow, uploadSessions, versionFiles, versions, type Tx } from "@modelreg/db";
import { VersionState } from "@modelreg/proto";
import { and, asc, eq, gt, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import { NotFoundError } from "../shared/errors.js";
import { parseVersionRefName, versionResourceName } from "../shared/resource-names.js";
import { rowsOf } from "../shared/raw-rows.js";
import { inScope, type Scope } from "../shared/scope.js";
import { versionNotFound, versionRefWhere } from "../versions/index.js";
import { eachBatch, inBatches } from "./batches.js";
import { manifestDigest } from "./manifest.js";
import { checkUid } from "./rules.js";
import type { FileSpec, VersionRef } from "./types.js";

/** The version row (locked when `lock`), with its model's workspace and name, or NotFound. */
export async function findVersion(tx: Tx | Database, scope: Scope, ref: VersionRef, lock: boolean) {
  const n = "uid" in ref ? undefined : parseVersionRefName("name", ref.name);
  const where = n ? versionRefWhere(scope, n) : and(eq(versions.id, checkUid((ref as { uid: string }).uid)), inScope(scope, models.workspace));
  const q = tx.select({ v: versions, workspace: models.workspace, modelName: models.name }).from(versions).innerJoin(models, eq(versions.modelId, models.id)).where(where);
  const [hit] = await (lock ? q.for("update", { of: versions }) : q);
  if (!hit) {
    if (n) throw await versionNotFound(tx, scope, (ref as { name: string }).name, n);
    const uid = (ref as { uid: string }).uid;
    throw new NotFoundError("version", uid, `version with uid ${uid}`);
  }
  return { ...hit, name: versionResourceName(hit.workspace, hit.modelName, hit.v.version) };
}

/** Replaces the version's draft manifest with `files` and marks it staged. */
export async function replaceDraft(tx: Tx, versionId: string, files: FileSpec[]): Promise<void> {
  await tx.delete(versionFiles).where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.draft, true)));
  await eachBatch(files, (batch) => tx.insert(versionFiles).values(batch.map((f) => ({ versionId, draft: true, ...f }))));
  await tx.update(versions).set({ draftStaged: true, updateTime: sql`now()` }).where(eq(versions.id, versionId));
}

/**
 * The version's upload sessions whose content is known: which content each
 * takes, and its size. Unbound sessions (CreateUploadSession) still
 * receiving their bytes have no sha256 yet and are not among them, so a
 * restage leaves them be.
 */
export async function versionSessions(tx: Tx, versionId: string): Promise<{ id: string; sha256: string; size: number }[]> {
  const rows = await tx
    .select({ id: uploadSessions.id, sha256: uploadSessions.sha256, size: uploadSessions.size })
    .from(uploadSessions)
    .where(and(eq(uploadSessions.versionId, versionId), isNotNull(uploadSessions.sha256)));
  return rows.map((r) => ({ ...r, sha256: r.sha256! }));
}

/** The task's upload sessions for any of `digests`: which content each takes, and its size. */
export async function taskSessions(tx: Tx, taskRowId: string, digests: string[]): Promise<{ id: string; sha256: string; size: number }[]> {
  const rows = await inBatches(digests, (batch) =>
    tx
      .select({ id: uploadSessions.id, sha256: uploadSessions.sha256, size: uploadSessions.size })
      .from(uploadSessions)
      .where(and(eq(uploadSessions.taskId, taskRowId), inArray(uploadSessions.sha256, batch))),
  );
  return rows.map((r) => ({ ...r, sha256: r.sha256! }));
}

/** Deletes the sessions by id. */
export async function deleteSessions(tx: Tx, ids: string[]): Promise<void> {
  await eachBatch(ids, (batch) => tx.delete(uploadSessions).where(inArray(uploadSessions.id, batch)));
}

/** Who a session belongs to: a version's row, or a task's. */
export type SessionOwnerRow = { versionId: string } | { taskId: string };

/** Opens (or renews, keeping its id and bytes) a session of `owner` per missing content. */
export async function upsertSessions(
  tx: Tx,
  owner: SessionOwnerRow,
  rows: { id: string; workspace: string; sha256: string; size: number; accessKeyId: string; expireTime: Date }[],
): Promise<UploadSessionRow[]> {
  // One owner per call: the conflict target is its (owner, sha256) key; a
  // version's key leaves out its unbound sessions (head_sha256 set).
  const task = "taskId" in owner;
  return inBatches(rows, (batch) =>
    tx
      .insert(uploadSessions)
      .values(batch.map((r) => ({ ...r, ...owner })))
      .onConflictDoUpdate({
        target: [task ? uploadSessions.taskId : uploadSessions.versionId, uploadSessions.sha256],
        targetWhere: task ? undefined : isNull(uploadSessions.headSha256),
        set: { expireTime: sql`excluded.expire_time`, accessKeyId: sql`excluded.access_key_id` },
      })
      .returning(),
  );
}

/** Opens an unbound session of the version (CreateUploadSession): no sha256 until its last byte arrives. */
export async function insertUnboundSession(
  tx: Tx,
  row: { id: string; workspace: string; versionId: string; size: number; headSha256: string; accessKeyId: string; expireTime: Date },
): Promise<UploadSessionRow> {
  const [inserted] = await tx.insert(uploadSessions).values({ ...row, sha256: null }).returning();
  return inserted!;
}

/**
 * The version's unbound session in progress for content of this size and
 * head, if one is open (a stopped push of the same file), with its expiry
 * moved on as staging renews a session.
 */
export async function renewUnboundSession(tx: Tx, versionId: string, size: number, headSha256: string, expireTime: Date): Promise<UploadSessionRow | undefined> {
  const [row] = await tx
    .update(uploadSessions)
    .set({ expireTime })
    .where(
      and(
        eq(uploadSessions.versionId, versionId),
        isNull(uploadSessions.sha256),
        eq(uploadSessions.size, size),
        eq(uploadSessions.headSha256, headSha256),
        eq(uploadSessions.complete, false),
        gt(uploadSessions.expireTime, sql`now()`),
      ),
    )
    .returning();
  return row;
}

/** The version's staged files. */
export async function draftFiles(tx: Tx, versionId: string) {
  return tx
    .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256 })
    .from(versionFiles)
    .where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.draft, true)));
}

/** The draft becomes the version's files and the version READY; returns the updated row. */
export async function promoteDraft(tx: Tx, versionId: string, draft: { path: string; size: number; sha256: string }[]) {
  await tx.delete(versionFiles).where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.draft, false)));
  await tx.update(versionFiles).set({ draft: false }).where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.draft, true)));
  return markReady(tx, versionId, draft);
}

/** Files written straight into a new version's committed manifest (a task's outputs, whose content the workspace holds). */
export async function insertCommitted(tx: Tx, versionId: string, files: FileSpec[]): Promise<void> {
  await eachBatch(files, (batch) => tx.insert(versionFiles).values(batch.map((f) => ({ versionId, draft: false, ...f }))));
}

/** The version READY with the summary of its committed files; returns the updated row. */
export async function markReady(tx: Tx, versionId: string, files: { path: string; size: number; sha256: string }[]) {
  const draft = files;
  const [row] = await tx
    .update(versions)
    .set({
      state: VersionState.READY,
      fileCount: draft.length,
      totalSize: draft.reduce((n, f) => n + f.size, 0),
      manifestDigest: manifestDigest(draft),
      draftStaged: false,
      revision: sql`${versions.revision} + 1`,
      updateTime: sql`now()`,
    })
    .where(eq(versions.id, versionId))
    .returning();
  return row!;
}

/** Deletes every session of the version. */
export async function deleteVersionSessions(tx: Tx, versionId: string): Promise<{ id: string; complete: boolean }[]> {
  return tx.delete(uploadSessions).where(eq(uploadSessions.versionId, versionId)).returning({ id: uploadSessions.id, complete: uploadSessions.complete });
}

/** The aliases pointing at the version, in order. */
export async function versionAliases(tx: Tx, versionId: string): Promise<string[]> {
  const rows = await tx.select({ alias: modelAliases.alias }).from(modelAliases).where(eq(modelAliases.versionId, versionId)).orderBy(asc(modelAliases.alias));
  return rows.map((a) => a.alias);
}

/** Up to `limit` committed files after path `after` (or only path `only`), with the md5 of their content. */
export async function committedFiles(db: Database, versionId: string, opts: { only?: string; after?: string; limit: number }) {
  return db
    .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256, mediaType: versionFiles.mediaType, md5: blobs.md5 })
    .from(versionFiles)
    .leftJoin(blobs, eq(blobs.sha256, versionFiles.sha256))
    .where(
      and(
        eq(versionFiles.versionId, versionId),
        eq(versionFiles.draft, false),
        opts.only !== undefined ? eq(versionFiles.path, opts.only) : undefined,
        opts.after !== undefined ? gt(versionFiles.path, opts.after) : undefined,
      ),
    )
    .orderBy(asc(versionFiles.path))
    .limit(opts.limit);
}

/**
 * A live session of the scope, with what it belongs to: its version's
 * model name and version id, or its task's id (the other pair null). A
 * session whose version or task is gone is not live.
 */
export async function findSession(db: Database, scope: Scope, target: { workspace: string; id: string }) {
  const [hit] = await db
    .select({ s: uploadSessions, modelName: models.name, version: versions.version, taskId: tasks.taskId })
    .from(uploadSessions)
    .leftJoin(versions, eq(versions.id, uploadSessions.versionId))
    .leftJoin(models, eq(models.id, versions.modelId))
    .leftJoin(tasks, eq(tasks.id, uploadSessions.taskId))
    .where(
      and(
        eq(uploadSessions.id, target.id),
        eq(uploadSessions.workspace, target.workspace),
        inScope(scope, uploadSessions.workspace),
        gt(uploadSessions.expireTime, sql`now()`),
        or(isNotNull(models.name), isNotNull(tasks.taskId)),
      ),
    );
  return hit;
}

/** The session is complete; an unbound one learns its content's sha256. */
export async function markSessionComplete(tx: Tx, id: string, sha256: string): Promise<void> {
  await tx.update(uploadSessions).set({ complete: true, sha256 }).where(eq(uploadSessions.id, id));
}

/** Deletes up to `limit` sessions that expired or whose version or task was deleted; returns them. */
export async function deleteLapsedSessions(db: Database, limit: number): Promise<{ id: string; complete: boolean }[]> {
  return rowsOf<{ id: string; complete: boolean }>(
    await db.execute(sql`
      DELETE FROM ${uploadSessions} WHERE id IN (
        SELECT id FROM ${uploadSessions} WHERE expire_time < now() OR (version_id IS NULL AND task_id IS NULL) LIMIT ${limit}
      ) RETURNING id, complete`),
  );
}
