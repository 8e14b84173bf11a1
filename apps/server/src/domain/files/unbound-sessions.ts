// Upload sessions opened before the content's sha256 is known
// (FileService.CreateUploadSession), so a client hashes and sends at once.
// The client gives the size and the sha256 of the first MiB (the head). If
// the workspace may hold the content already (same size and head, or a
// head not recorded), nothing is opened: the client hashes the whole
// content and stages it by sha256, which keeps dedup exact. Otherwise an
// unbound session of the version is opened: sha256 NULL, head recorded (or
// the one a stopped run opened for the same size and head is taken up
// again, with the bytes it holds, so a killed push continues). Its
// bytes go through the same write() as every session's; when the last one
// arrives, upload-sessions.ts publishes the content under the sha256 the
// store computed and the session learns it.
//
// Only the caller's workspace is consulted, as staging does, so no
// workspace learns what another stores.
import { parseVersionRefName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { mayHold } from "./blobs-sql.js";
import { checkMayStage, checkUnboundContent } from "./rules.js";
import { findVersion, insertUnboundSession, renewUnboundSession } from "./sql.js";
import { newSessionId, stagedOffset } from "./staging.js";
import { type FilesContext, sessionView, type UploadSessionView } from "./types.js";

export interface UnboundContent {
  /** The version: `workspaces/{w}/models/{m}/versions/{v}`. */
  parent: string;
  size: number;
  /** sha256 of the content's first min(size, 1 MiB) bytes. */
  headSha256: string;
  /** The content replaces files of a READY version (as staging's overwrite). */
  overwrite: boolean;
}

/** Either the workspace may hold the content already (nothing opened), or the new unbound session. */
export type UnboundSessionResult = { mayBeHeld: true } | { mayBeHeld: false; upload: UploadSessionView };

export async function createUnboundSession(ctx: FilesContext, scope: Scope, accessKeyId: string, content: UnboundContent): Promise<UnboundSessionResult> {
  parseVersionRefName("parent", content.parent);
  checkUnboundContent(content.size, content.headSha256);
  return ctx.db.transaction(async (tx) => {
    // Locked as staging locks it: a commit or a restage of the version waits, and the session is its own.
    const hit = await findVersion(tx, scope, { name: content.parent }, true);
    checkMayStage(hit.name, hit.v.state, content.overwrite);
    if (content.size === 0 || (await mayHold(tx, hit.workspace, content.size, content.headSha256))) return { mayBeHeld: true };
    const expireTime = new Date(Date.now() + ctx.ttlMs);
    // A stopped push of the same file takes its session up again, keeping its bytes.
    const open = await renewUnboundSession(tx, hit.v.id, content.size, content.headSha256, expireTime);
    if (open) return { mayBeHeld: false, upload: sessionView(open, { version: hit.name }, await stagedOffset(ctx.store, open.id), ctx.maxChunk) };
    const row = await insertUnboundSession(tx, {
      id: newSessionId(),
      workspace: hit.workspace,
      versionId: hit.v.id,
      size: content.size,
      headSha256: content.headSha256,
      accessKeyId,
      expireTime,
    });
    await writeAudit(tx, scope);
    return { mayBeHeld: false, upload: sessionView(row, { version: hit.name }, 0, ctx.maxChunk) };
  });
}
