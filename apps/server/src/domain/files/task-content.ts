// Content for a task's files (a checkpoint's, its inputs, its outputs),
// staged through the machinery of versions' files (staging.ts) but inside
// the tasks domain's own transaction: the task's rows and the sessions
// commit or roll back together. A task has several manifests (inputs, each
// checkpoint, outputs) in flight at once, so staging one never ends the
// task's sessions for another; they end with their expiry, or with the
// task (garbage collection takes a session whose task is gone).
import type { Database, Tx, VersionRow } from "@modelreg/db";
import { eachBatch } from "./batches.js";
import { heldSizes, md5sOf } from "./blobs-sql.js";
import { type HeldAdvice, requireStoredSizes, requireUploaded, staleSessions } from "./rules.js";
import { deleteSessions, insertCommitted, markReady, taskSessions } from "./sql.js";
import { checkAndStoreEmpty, heldContent, openSessions, STORE_CALLS, stagedFiles } from "./staging.js";
import type { FilesContext, FileSpec, StagedFile, StoredFile } from "./types.js";
import { taskResourceName } from "../shared/resource-names.js";

/** The task whose files are staged: its workspace, its row id (tasks.id), and its id within the workspace (tasks.task_id). */
export interface TaskFilesOwner {
  workspace: string;
  taskRowId: string;
  taskId: string;
}

export interface TaskContent {
  /** Before the transaction: the manifest checked (violations under `field`, e.g. "files") and its empty content stored. Returns the checked files (normalized paths, media types filled in). */
  check(files: FileSpec[], field: string): Promise<FileSpec[]>;
  /** Inside the caller's transaction, for files check() returned: each present (held with its size; another size is InvalidArgument under `field`) or taken by a session of the task. */
  stage(tx: Tx, owner: TaskFilesOwner, files: FileSpec[], accessKeyId: string, field?: string): Promise<{ files: StagedFile[]; bytesToUpload: number }>;
  /**
   * Inside the caller's transaction: FAILED_PRECONDITION as CommitVersionFiles (UPLOADS_INCOMPLETE naming the files not held,
   * or SIZE_MISMATCH; each names `of.name` and ends "then {retry}", default "call again") unless the workspace holds every
   * file's content with its size.
   */
  requireHeld(tx: Tx, of: { workspace: string; name: string }, files: FileSpec[], retry?: string): Promise<void>;
  /** The files with the md5 of their content ("" while not computed yet), e.g. to hand them out with download URLs. */
  withMd5(db: Tx | Database, files: FileSpec[]): Promise<StoredFile[]>;
  /**
   * Inside the caller's transaction: a new version gets `files` (content the
   * workspace holds, checked as requireHeld checks it) as its committed
   * files and turns READY, as CommitVersionFiles would make it; returns the
   * version's row after.
   */
  fillVersion(tx: Tx, version: { id: string; workspace: string; name: string }, files: FileSpec[]): Promise<VersionRow>;
}

export function createTaskContentOf(ctx: FilesContext): TaskContent {
  return {
    check: (files, field) => checkAndStoreEmpty(ctx, files, field),
    stage: (tx, owner, files, accessKeyId, field = "files") => stageTaskFiles(ctx, tx, owner, files, accessKeyId, field),
    requireHeld: (tx, of, files, retry = "call again") => requireHeld(tx, of, files, retry),
    withMd5: (db, files) => withMd5(db, files),
    fillVersion: async (tx, version, files) => {
      await requireHeld(tx, version, files, "register the version again");
      await insertCommitted(tx, version.id, files);
      return markReady(tx, version.id, files);
    },
  };
}

async function stageTaskFiles(
  ctx: FilesContext,
  tx: Tx,
  owner: TaskFilesOwner,
  files: FileSpec[],
  accessKeyId: string,
  field: string,
): Promise<{ files: StagedFile[]; bytesToUpload: number }> {
  const { held, missing } = await heldContent(tx, owner.workspace, files, field);
  // A session of the task for the same content declared now with another
  // size could never complete; it gives way to one of the new size.
  const resized = staleSessions(await taskSessions(tx, owner.taskRowId, [...missing.keys()]), missing);
  await deleteSessions(tx, resized.map((s) => s.id));
  // Inside the caller's transaction: were it rolled back, the session would
  // only start over from offset 0 (a session whose staging area is missing
  // makes a new one).
  await eachBatch(resized, (batch) => Promise.all(batch.map((s) => ctx.store.abortStaging(s.id))), STORE_CALLS);
  const sessions = await openSessions(ctx, tx, owner.workspace, { taskId: owner.taskRowId }, missing, accessKeyId);
  return stagedFiles(ctx, files, held, sessions, { task: taskResourceName(owner.workspace, owner.taskId) });
}

async function requireHeld(tx: Tx, of: { workspace: string; name: string }, files: FileSpec[], retry: string): Promise<void> {
  const held = await heldSizes(tx, of.workspace, [...new Set(files.map((f) => f.sha256))]);
  const advice: HeldAdvice = { retry, restage: `declare the files again with their true sizes, then ${retry}` };
  requireUploaded(of.name, files, held, advice);
  requireStoredSizes(of.name, files, held, advice);
}

async function withMd5(db: Tx | Database, files: FileSpec[]): Promise<StoredFile[]> {
  const md5s = await md5sOf(db, [...new Set(files.map((f) => f.sha256))]);
  return files.map((f) => ({ ...f, md5: md5s.get(f.sha256) ?? "" }));
}
