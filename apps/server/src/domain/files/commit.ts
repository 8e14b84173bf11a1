// Committing a version's staged files: in one transaction the draft becomes
// the version's files (every content must be held by the workspace, with the
// size the draft declares), the version turns READY with a new manifest
// digest, and its upload sessions end.
import { checkEtag, etagOf } from "../shared/etag.js";
import { parseVersionRefName } from "../shared/resource-names.js";
import { type Scope, writeAudit } from "../shared/scope.js";
import { toVersion, type Version } from "../versions/index.js";
import { heldSizes } from "./blobs-sql.js";
import { requireStaged, requireStoredSizes, requireUploaded } from "./rules.js";
import { deleteVersionSessions, draftFiles, findVersion, promoteDraft, versionAliases } from "./sql.js";
import type { FilesContext } from "./types.js";

export async function commitFiles(ctx: FilesContext, scope: Scope, name: string, etag: string): Promise<Version> {
  parseVersionRefName("name", name);
  const { version, sessions } = await ctx.db.transaction(async (tx) => {
    const hit = await findVersion(tx, scope, { name }, true);
    checkEtag(hit.name, etag, etagOf(hit.v.id, hit.v.revision));
    requireStaged(hit.name, hit.v.draftStaged);
    const draft = await draftFiles(tx, hit.v.id);
    const held = await heldSizes(tx, hit.workspace, [...new Set(draft.map((f) => f.sha256))]);
    requireUploaded(hit.name, draft, held);
    requireStoredSizes(hit.name, draft, held);
    const row = await promoteDraft(tx, hit.v.id, draft);
    const sessions = await deleteVersionSessions(tx, hit.v.id);
    await writeAudit(tx, scope);
    const aliases = await versionAliases(tx, hit.v.id);
    return { version: toVersion(row, { workspace: hit.workspace, name: hit.modelName }, aliases), sessions };
  });
  for (const s of sessions) if (!s.complete) await ctx.store.abortStaging(s.id);
  return version;
}
