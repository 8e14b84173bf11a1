// Staging a version's files: the draft manifest replaces the previous one in
// one transaction; content the workspace holds already is reported present,
// for the rest an upload session is opened (or renewed, keeping its bytes).
import { randomBytes } from "node:crypto";
import type { UploadSessionRow } from "@modelreg/db";
import { type Scope, writeAudit } from "../shared/scope.js";
import { parseVersionRefName } from "../shared/resource-names.js";
import { claimBlob, heldBy, recordHolding } from "./blobs-sql.js";
import { checkFiles, checkMayStage, contentSizes, EMPTY_MD5, EMPTY_SHA256 } from "./rules.js";
import { dropSessionsExcept, findVersion, replaceDraft, upsertSessions } from "./sql.js";
import { type FilesContext, type FileSpec, sessionView, type StagedFile, type UploadSessionView } from "./types.js";

const newSessionId = () => randomBytes(15).toString("base64url").replace(/[-_]/g, "x");

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
    await replaceDraft(tx, hit.v.id, checked);
    if (sizes.has(EMPTY_SHA256)) await recordHolding(tx, hit.workspace, EMPTY_SHA256, EMPTY_MD5);
    const held = await heldBy(tx, hit.workspace, [...sizes.keys()]);
    const missing = [...sizes].filter(([sha]) => !held.has(sha));
    const dropped = await dropSessionsExcept(tx, hit.v.id, missing.map(([s]) => s));
    const sessions = await upsertSessions(
      tx,
      missing.map(([sha256, size]) => ({
        id: newSessionId(),
        workspace: hit.workspace,
        versionId: hit.v.id,
        sha256,
        size,
        accessKeyId,
        expireTime: new Date(Date.now() + ctx.ttlMs),
      })),
    );
    await writeAudit(tx, scope);
    return { hit, held, sessions, dropped };
  });
  for (const d of result.dropped) await store.abortStaging(d.id);
  const views = await withOffsets(ctx, result.sessions, result.hit.name);
  let bytesToUpload = 0;
  for (const view of views.values()) bytesToUpload += view.size - view.committedOffset;
  return {
    files: checked.map((file) => (result.held.has(file.sha256) ? { file, present: true } : { file, present: false, upload: views.get(file.sha256) })),
    bytesToUpload,
  };
}

/** Makes sure each session has its staging area and reports its committed offset. */
async function withOffsets(ctx: FilesContext, rows: UploadSessionRow[], versionName: string): Promise<Map<string, UploadSessionView>> {
  const views = new Map<string, UploadSessionView>();
  for (const row of rows) {
    let offset = row.complete ? row.size : 0;
    if (!row.complete) {
      await ctx.store.createStaging(row.id); // idempotent
      offset = await ctx.store.stagedSize(row.id);
    }
    views.set(row.sha256, sessionView(row, versionName, offset, ctx.maxChunk));
  }
  return views;
}
