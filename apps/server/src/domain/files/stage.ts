// Staging a version's files: the draft manifest replaces the previous one in
// one transaction; content the workspace holds already is reported present
// (declared with its stored size, or refused), for the rest an upload
// session is opened (or renewed, keeping its bytes, when its size is the
// same), and the version's sessions for content no longer missing end
// (staging.ts holds what a task's staging shares). A manifest's rows go to
// the database in batches (batches.ts).
import { parseVersionRefName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { eachBatch } from "./batches.js";
import { checkMayStage, staleSessions } from "./rules.js";
import { deleteSessions, findVersion, replaceDraft, versionSessions } from "./sql.js";
import { checkAndStoreEmpty, heldContent, openSessions, STORE_CALLS, stagedFiles } from "./staging.js";
import type { FilesContext, FileSpec, StagedFile } from "./types.js";

export async function stageFiles(
  ctx: FilesContext,
  scope: Scope,
  accessKeyId: string,
  name: string,
  files: FileSpec[],
  overwrite: boolean,
): Promise<{ files: StagedFile[]; bytesToUpload: number }> {
  parseVersionRefName("name", name);
  const checked = await checkAndStoreEmpty(ctx, files, "files");
  const result = await ctx.db.transaction(async (tx) => {
    const hit = await findVersion(tx, scope, { name }, true);
    checkMayStage(hit.name, hit.v.state, overwrite);
    const { held, missing } = await heldContent(tx, hit.workspace, checked, "files");
    await replaceDraft(tx, hit.v.id, checked);
    // Only this version's sessions: a task's sessions for the same content are its own.
    const dropped = staleSessions(await versionSessions(tx, hit.v.id), missing);
    await deleteSessions(tx, dropped.map((d) => d.id));
    const sessions = await openSessions(ctx, tx, hit.workspace, { versionId: hit.v.id }, missing, accessKeyId);
    await writeAudit(tx, scope);
    return { hit, held, sessions, dropped };
  });
  await eachBatch(result.dropped, (batch) => Promise.all(batch.map((d) => ctx.store.abortStaging(d.id))), STORE_CALLS);
  return stagedFiles(ctx, checked, result.held, result.sessions, { version: result.hit.name });
}
