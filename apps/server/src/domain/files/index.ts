// Files of versions: stage a draft manifest (learning which content must be
// uploaded), commit it (the version becomes READY in one transaction), list
// the committed files, and find one file of a READY version to read; open
// an upload session before the content's sha256 is known
// (unbound-sessions.ts). Upload
// sessions (upload-sessions.ts) carry the bytes staging asks for; the
// content and which workspace holds it are in blobs-sql.ts, and what
// garbage collection and the md5 backfill do with it in content.ts. The
// files of tasks are staged by the same machinery inside the tasks
// domain's transactions (task-content.ts).
import type { Database } from "@modelreg/db";
import type { BlobStore } from "../ports/blob-store.js";
import type { Scope } from "../shared/scope.js";
import type { Version } from "../versions/index.js";
import { commitFiles } from "./commit.js";
import { findFile, holds, listFiles } from "./read.js";
import { MAX_CHUNK_BYTES } from "./rules.js";
import { stageFiles } from "./stage.js";
import { createTaskContentOf, type TaskContent } from "./task-content.js";
import type { FilePage, FilesContext, FileSpec, StagedFile, StoredFile, VersionRef } from "./types.js";
import { createUnboundSession, type UnboundContent, type UnboundSessionResult } from "./unbound-sessions.js";

export type { FilePage, FileSpec, StagedFile, StoredFile, UploadSessionView, VersionRef } from "./types.js";
export { uploadSessionName } from "./types.js";
export type { UnboundContent, UnboundSessionResult } from "./unbound-sessions.js";
export type { TaskContent, TaskFilesOwner } from "./task-content.js";
export {
  ChunkTooLargeError,
  COMMIT_STEP_BYTES,
  EMPTY_SHA256,
  MAX_CHUNK_BYTES,
  MAX_FILE_BYTES,
  MAX_FILES_PER_VERSION,
  parseUploadSessionName,
  UploadRestartedError,
} from "./rules.js";
export { createUploadSessionsDomain, type UploadSessionsDeps, type UploadSessionsDomain } from "./upload-sessions.js";
// Stored content beside the calls: garbage collection and the MD5 backfill
// (content.ts); publishing an export's archive as content a workspace holds
// (claimBlob, recordHolding, for the exports domain).
export { type ContentDomain, createContentDomain, type GcResult } from "./content.js";
export { claimBlob, recordHolding } from "./blobs-sql.js";

export interface FilesDomainDeps {
  db: Database;
  store: BlobStore;
  /** How long an upload session lives (default 7 days). */
  sessionTtlMs?: number;
  /** Largest body of one upload request, as sessions report it (default MAX_CHUNK_BYTES). */
  maxChunkBytes?: number;
}

export interface FilesDomain {
  /** Replaces the version's draft manifest; reports which content is present and opens upload sessions for the rest. */
  stage(scope: Scope, accessKeyId: string, name: string, files: FileSpec[], overwrite: boolean): Promise<{ files: StagedFile[]; bytesToUpload: number }>;
  /** Makes the staged manifest the version's files (all uploaded, etag matching); the version turns READY. */
  commit(scope: Scope, name: string, etag: string): Promise<Version>;
  /** A page of a READY version's committed files, or only the one at `path` ("" = all). */
  list(scope: Scope, ref: VersionRef, pageSize: number, pageToken: string, path: string): Promise<FilePage>;
  /** One file of a READY version, for reading. */
  file(scope: Scope, ref: VersionRef, path: string): Promise<{ workspace: string; version: string; file: StoredFile }>;
  /**
   * CreateUploadSession: whether the workspace may hold content of this
   * size and head already (then nothing is opened), else a new unbound
   * session of the version, whose sha256 is computed from its bytes.
   */
  createUploadSession(scope: Scope, accessKeyId: string, content: UnboundContent): Promise<UnboundSessionResult>;
  /** Whether a download URL of the workspace may serve the content: a committed file of one of its versions, a finished export's archive, or content it holds that a file of one of its tasks names. */
  holds(workspace: string, sha256: string): Promise<boolean>;
}

const contextOf = (deps: FilesDomainDeps): FilesContext => ({
  db: deps.db,
  store: deps.store,
  ttlMs: deps.sessionTtlMs ?? 7 * 24 * 3600 * 1000,
  maxChunk: deps.maxChunkBytes ?? MAX_CHUNK_BYTES,
});

/** Content for a task's files (checkpoints, inputs, outputs), staged and checked inside the tasks domain's transactions. */
export function createTaskContent(deps: FilesDomainDeps): TaskContent {
  return createTaskContentOf(contextOf(deps));
}

export function createFilesDomain(deps: FilesDomainDeps): FilesDomain {
  const ctx = contextOf(deps);
  return {
    stage: (scope, accessKeyId, name, files, overwrite) => stageFiles(ctx, scope, accessKeyId, name, files, overwrite),
    commit: (scope, name, etag) => commitFiles(ctx, scope, name, etag),
    list: (scope, ref, pageSize, pageToken, path) => listFiles(ctx, scope, ref, pageSize, pageToken, path),
    file: (scope, ref, path) => findFile(ctx, scope, ref, path),
    holds: (workspace, sha256) => holds(ctx.db, workspace, sha256),
    createUploadSession: (scope, accessKeyId, content) => createUnboundSession(ctx, scope, accessKeyId, content),
  };
}
