// Reading a version's committed files: a page of them, or one by path. Only
// a READY version's files are read.
import type { Database } from "@modelreg/db";
import { decodePageToken, pageOf, queryFingerprint } from "../shared/page-token.js";
import type { Scope } from "../shared/scope.js";
import { checkFilePath, checkListArgs, requireReady } from "./rules.js";
import { isServed } from "./served-sql.js";
import { committedFiles, findVersion } from "./sql.js";
import { NotFoundError } from "../shared/errors.js";
import { type FilePage, type FilesContext, type StoredFile, toStoredFile, type VersionRef } from "./types.js";

export async function listFiles(ctx: FilesContext, scope: Scope, ref: VersionRef, pageSize: number, pageToken: string, path: string): Promise<FilePage> {
  const { limit, only } = checkListArgs(pageSize, path);
  const hit = await findVersion(ctx.db, scope, ref, false);
  requireReady(hit.name, hit.v.state);
  const fp = queryFingerprint("files", hit.v.id, hit.v.manifestDigest);
  const after = decodePageToken(pageToken, fp, 1);
  const rows = await committedFiles(ctx.db, hit.v.id, { only, after: after ? after[0]! : undefined, limit: limit + 1 });
  if (only !== undefined && rows.length === 0) throw new NotFoundError("file", `${hit.name}/files/${only}`);
  const page = pageOf(rows, limit, fp, (r) => [r.path]);
  return {
    workspace: hit.workspace,
    version: hit.name,
    manifestDigest: hit.v.manifestDigest,
    files: page.rows.map(toStoredFile),
    nextPageToken: page.nextPageToken,
  };
}

export async function findFile(ctx: FilesContext, scope: Scope, ref: VersionRef, path: string): Promise<{ workspace: string; version: string; file: StoredFile }> {
  const page = await listFiles(ctx, scope, ref, 1, "", checkFilePath(path));
  return { workspace: page.workspace, version: page.version, file: page.files[0]! };
}

/** Whether a download URL of the workspace may serve the content: a file of one of its versions, or an export's archive. */
export async function holds(db: Database, workspace: string, sha256: string): Promise<boolean> {
  return isServed(db, workspace, sha256);
}
