// The records of the files domain: files as clients declare them and as a
// version holds them, upload sessions as callers see them, and the mapping
// from their database rows.
import type { Database, UploadSessionRow } from "@modelreg/db";
import type { BlobStore } from "../ports/blob-store.js";

/** A file as a client declares it. */
export interface FileSpec {
  path: string;
  size: number;
  sha256: string;
  /** "" = chosen from the extension. */
  mediaType: string;
}

/** A committed file, with the md5 once it is known ("" before). */
export interface StoredFile extends FileSpec {
  md5: string;
}

export interface StagedFile {
  file: FileSpec;
  present: boolean;
  upload?: UploadSessionView;
}

export type VersionRef = { name: string } | { uid: string };

/** A page of a READY version's committed files. */
export interface FilePage {
  workspace: string;
  /** Resource name of the version. */
  version: string;
  manifestDigest: string;
  files: StoredFile[];
  nextPageToken: string;
}

export interface UploadSessionView {
  id: string;
  workspace: string;
  /** `workspaces/{w}/uploads/{id}`. */
  name: string;
  /** Resource name of the version whose files need the content; "" for a task's session. */
  version: string;
  /** Resource name of the task whose files need the content (`workspaces/{w}/tasks/{task}`); "" for a version's session. */
  task: string;
  /** "" for an unbound session (CreateUploadSession) until its last byte arrives. */
  sha256: string;
  size: number;
  committedOffset: number;
  complete: boolean;
  expireTime: Date;
  maxChunkBytes: number;
}

/** What the operations of the files domain share: built once by createFilesDomain. */
export interface FilesContext {
  db: Database;
  store: BlobStore;
  /** How long an upload session lives. */
  ttlMs: number;
  /** Largest body of one upload request, as sessions report it. */
  maxChunk: number;
}

export const uploadSessionName = (workspace: string, id: string) => `workspaces/${workspace}/uploads/${id}`;

/** A session belongs to a version or to a task: the resource name of the one it belongs to. */
export type SessionOwnerName = { version: string } | { task: string };

export function sessionView(row: UploadSessionRow, owner: SessionOwnerName, committedOffset: number, maxChunkBytes: number): UploadSessionView {
  return {
    id: row.id,
    workspace: row.workspace,
    name: uploadSessionName(row.workspace, row.id),
    version: "version" in owner ? owner.version : "",
    task: "task" in owner ? owner.task : "",
    sha256: row.sha256 ?? "",
    size: row.size,
    committedOffset,
    complete: row.complete,
    expireTime: row.expireTime,
    maxChunkBytes,
  };
}

/** A committed file row (joined with its blob's md5, NULL until computed). */
export function toStoredFile(row: { path: string; size: number; sha256: string; mediaType: string; md5: string | null }): StoredFile {
  return { ...row, md5: row.md5 ?? "" };
}
