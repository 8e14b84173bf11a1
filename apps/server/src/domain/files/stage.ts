// Staging a version's files: the draft manifest replaces the previous one in
// one transaction; content the workspace holds already is reported present
// (declared with its stored size, or refused), for the rest an upload
// session is opened (or renewed, keeping its bytes, when its size is the
// same). A manifest's rows go to the database in batches (batches.ts).
import { randomBytes } from "node:crypto";
import type { UploadSessionRow } from "@modelreg/db";
import type { BlobStore } from "../ports/blob-store.js";
import { StagingNotFoundError } from "../ports/blob-store-errors.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { parseVersionRefName } from "../shared/resource-names.js";
import { eachBatch } from "./batches.js";
import { claimBlob, heldSizes, recordHolding } from "./blobs-sql.js";
import { checkFiles, checkHeldSizes, checkMayStage, contentSizes, EMPTY_MD5, EMPTY_SHA256, staleSessions } from "./rules.js";
import { deleteSessions, findVersion, replaceDraft, upsertSessions, versionSessions } from "./sql.js";
import { type FilesContext, type FileSpec, sessionView, type StagedFile, type UploadSessionView } from "./types.js";

const newSessionId = () => randomBytes(15).toString("base64url").replace(/[-_]/g, "x");

/** Calls to the blob store for a manifest's sessions run this many at a time (each may wait on the disk or the object store). */
const STORE_CALLS = 16;

export async function stageFiles(
  ctx: FilesContext,
  scope: Scope,
  accessKeyId: string,
  name: string,
  files: FileSpec[],
  overwrite: boolean,
): Promise<{ files: StagedFile[]; bytesToUpload: number }> {
  const { db, store } = ctx;
  parseVersionRefName("name", name);
  const checked = checkFiles(files);
  const sizes = contentSizes(checked);
  // Empty content is stored without an upload.
  if (sizes.has(EMPTY_SHA256)) {
    await claimBlob(db, EMPTY_SHA256, 0);
    await store.put([], { expectedSha256: EMPTY_SHA256, expectedSize: 0 });
  }
  const result = await db.transaction(async (tx) => {
    const hit = await findVersion(tx, scope, { name }, true);
    checkMayStage(hit.name, hit.v.state, overwrite);
    if (sizes.has(EMPTY_SHA256)) await recordHolding(tx, hit.workspace, EMPTY_SHA256, EMPTY_MD5);
    const held = await heldSizes(tx, hit.workspace, [...sizes.keys()]);
    checkHeldSizes(checked, held);
    await replaceDraft(tx, hit.v.id, checked);
    const missing = new Map([...sizes].filter(([sha]) => !held.has(sha)));
    const dropped = staleSessions(await versionSessions(tx, hit.v.id), missing);
    await deleteSessions(tx, dropped.map((d) => d.id));
    const opened = [...missing].map(([sha256, size]) => ({ id: newSessionId(), sha256, size }));
    const sessions = await upsertSessions(
      tx,
      opened.map(({ id, sha256, size }) => ({
        id,
        workspace: hit.workspace,
        versionId: hit.v.id,
        sha256,
        size,
        accessKeyId,
        expireTime: new Date(Date.now() + ctx.ttlMs),
      })),
    );
    await writeAudit(tx, scope);
    return { hit, held, sessions, dropped, opened: new Set(opened.map((o) => o.id)) };
  });
  await eachBatch(result.dropped, (batch) => Promise.all(batch.map((d) => store.abortStaging(d.id))), STORE_CALLS);
  const views = await withOffsets(ctx, result.sessions, result.opened, result.hit.name);
  let bytesToUpload = 0;
  for (const view of views.values()) bytesToUpload += view.size - view.committedOffset;
  return {
    files: checked.map((file) => (result.held.has(file.sha256) ? { file, present: true } : { file, present: false, upload: views.get(file.sha256) })),
    bytesToUpload,
  };
}

/**
 * The view of each session, with the offset its bytes have reached. A
 * session this staging opened has none yet. Staging areas are made by a
 * session's first write (which makes a missing one at offset 0), not here,
 * so a large manifest does not wait on thousands of them.
 */
async function withOffsets(ctx: FilesContext, rows: UploadSessionRow[], opened: Set<string>, versionName: string): Promise<Map<string, UploadSessionView>> {
  const views = new Map<string, UploadSessionView>();
  const view = async (row: UploadSessionRow) => {
    const offset = row.complete ? row.size : opened.has(row.id) ? 0 : await stagedOffset(ctx.store, row.id);
    views.set(row.sha256, sessionView(row, versionName, offset, ctx.maxChunk));
  };
  await eachBatch(rows, (batch) => Promise.all(batch.map(view)), STORE_CALLS);
  return views;
}

/** The bytes a renewed session holds: none when its staging area is not made yet. */
async function stagedOffset(store: BlobStore, id: string): Promise<number> {
  try {
    return await store.stagedSize(id);
  } catch (err) {
    if (!(err instanceof StagingNotFoundError)) throw err;
    return 0;
  }
}
