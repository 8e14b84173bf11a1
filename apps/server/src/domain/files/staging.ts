// What staging a version's files (stage.ts) and a task's (task-content.ts)
// share: the manifest checked and its empty content stored before the
// transaction; inside it, the content the workspace holds (declared with
// its stored size, or refused) and an upload session of the owner opened,
// or renewed keeping its bytes, for each content it does not; and the
// staged files as the caller sees them, with each session's offset.
import { randomBytes } from "node:crypto";
import type { Tx, UploadSessionRow } from "@modelreg/db";
import type { BlobStore } from "../ports/blob-store.js";
import { StagingNotFoundError } from "../ports/blob-store-errors.js";
import { eachBatch } from "./batches.js";
import { claimBlob, heldSizes, recordHolding } from "./blobs-sql.js";
import { checkFiles, checkHeldSizes, contentSizes, EMPTY_MD5, EMPTY_SHA256 } from "./rules.js";
import { type SessionOwnerRow, upsertSessions } from "./sql.js";
import { type FilesContext, type FileSpec, type SessionOwnerName, sessionView, type StagedFile, type UploadSessionView } from "./types.js";

export const newSessionId = () => randomBytes(15).toString("base64url").replace(/[-_]/g, "x");

/** Calls to the blob store for a manifest's sessions run this many at a time (each may wait on the disk or the object store). */
export const STORE_CALLS = 16;

/** Before the transaction: the manifest checked (violations under `field`), and empty content stored without an upload. */
export async function checkAndStoreEmpty(ctx: FilesContext, files: FileSpec[], field: string): Promise<FileSpec[]> {
  const checked = checkFiles(files, field);
  if (contentSizes(checked, field).has(EMPTY_SHA256)) {
    await claimBlob(ctx.db, EMPTY_SHA256, 0, EMPTY_SHA256); // the first MiB of nothing is nothing
    await ctx.store.put([], { expectedSha256: EMPTY_SHA256, expectedSize: 0 });
  }
  return checked;
}

/**
 * Inside the transaction, for files checkAndStoreEmpty() returned: the
 * size of each content the workspace holds (the empty content recorded as
 * held), every such file declared with that size (else InvalidArgument
 * under `field`), and the size of each content it does not hold.
 */
export async function heldContent(
  tx: Tx,
  workspace: string,
  checked: FileSpec[],
  field: string,
): Promise<{ held: Map<string, number>; missing: Map<string, number> }> {
  const sizes = contentSizes(checked, field);
  if (sizes.has(EMPTY_SHA256)) await recordHolding(tx, workspace, EMPTY_SHA256, EMPTY_MD5);
  const held = await heldSizes(tx, workspace, [...sizes.keys()]);
  checkHeldSizes(checked, held, field);
  return { held, missing: new Map([...sizes].filter(([sha]) => !held.has(sha))) };
}

/** The owner's sessions for the missing content as the transaction left them, and which of them it opened. */
export interface OpenedSessions {
  rows: UploadSessionRow[];
  opened: Set<string>;
}

/** Inside the transaction: a session of `owner` per missing content, opened, or renewed (same size) keeping its id and bytes. */
export async function openSessions(
  ctx: FilesContext,
  tx: Tx,
  workspace: string,
  owner: SessionOwnerRow,
  missing: ReadonlyMap<string, number>,
  accessKeyId: string,
): Promise<OpenedSessions> {
  const expireTime = new Date(Date.now() + ctx.ttlMs);
  const wanted = [...missing].map(([sha256, size]) => ({ id: newSessionId(), workspace, sha256, size, accessKeyId, expireTime }));
  const rows = await upsertSessions(tx, owner, wanted);
  return { rows, opened: new Set(wanted.map((w) => w.id)) };
}

/** The staged files in request order (present, or the session taking the content) and the bytes still to send. */
export async function stagedFiles(
  ctx: FilesContext,
  checked: FileSpec[],
  held: ReadonlyMap<string, number>,
  sessions: OpenedSessions,
  owner: SessionOwnerName,
): Promise<{ files: StagedFile[]; bytesToUpload: number }> {
  const views = await withOffsets(ctx, sessions, owner);
  let bytesToUpload = 0;
  for (const view of views.values()) bytesToUpload += view.size - view.committedOffset;
  return {
    files: checked.map((file) => (held.has(file.sha256) ? { file, present: true } : { file, present: false, upload: views.get(file.sha256) })),
    bytesToUpload,
  };
}

/**
 * The view of each session, with the offset its bytes have reached. A
 * session this staging opened has none yet. Staging areas are made by a
 * session's first write (which makes a missing one at offset 0), not here,
 * so a large manifest does not wait on thousands of them.
 */
async function withOffsets(ctx: FilesContext, sessions: OpenedSessions, owner: SessionOwnerName): Promise<Map<string, UploadSessionView>> {
  const views = new Map<string, UploadSessionView>();
  const view = async (row: UploadSessionRow) => {
    const offset = row.complete ? row.size : sessions.opened.has(row.id) ? 0 : await stagedOffset(ctx.store, row.id);
    views.set(row.sha256!, sessionView(row, owner, offset, ctx.maxChunk));
  };
  await eachBatch(sessions.rows, (batch) => Promise.all(batch.map(view)), STORE_CALLS);
  return views;
}

/** The bytes a renewed session holds: none when its staging area is not made yet. */
export async function stagedOffset(store: BlobStore, id: string): Promise<number> {
  try {
    return await store.stagedSize(id);
  } catch (err) {
    if (!(err instanceof StagingNotFoundError)) throw err;
    return 0;
  }
}
