// The export job's side of exports (jobs/export-job.ts packs; this reads
// what it packs and moves the record along). Apart from ExportsDomain
// because the job engine is built with the job before the exports domain
// can be given the engine as its queue.
import type { Database } from "@modelreg/db";
import { claimBlob, recordHolding } from "../files/index.js";
import { toVersion, type Version } from "../versions/index.js";
import * as q from "./run-sql.js";
import type { ArchiveResult, ExportRow, SourceFile } from "./types.js";

export interface ExportRuns {
  /** Marks a PENDING or RUNNING export RUNNING for try `attempt`; undefined when it was cancelled, deleted or finished. */
  claim(exportId: string, attempt: number): Promise<ExportRow | undefined>;
  /** The version (aliases left out, they move on their own) and the revision it is at; undefined when it was deleted. */
  version(versionId: string): Promise<{ version: Version; revision: number } | undefined>;
  /** The version's committed files, by path. */
  files(versionId: string): Promise<SourceFile[]>;
  /** Records the bytes packed so far; the export's state now, undefined when it is gone. */
  progress(exportId: string, bytesDone: number): Promise<number | undefined>;
  /** Records (or renews the claim of) the archive's blob, before it is published. */
  claimArchive(sha256: string, size: number): Promise<void>;
  /** The workspace holds the archive, and a still RUNNING export is SUCCEEDED with it, in one transaction. */
  succeed(exportId: string, workspace: string, result: ArchiveResult): Promise<void>;
  /** A RUNNING export waits for its next try as PENDING, with what went wrong. */
  retryLater(exportId: string, errorMessage: string): Promise<void>;
  /** A live export FAILED for good, with the last error. */
  fail(exportId: string, errorMessage: string): Promise<void>;
}

export function createExportRuns(db: Database): ExportRuns {
  return {
    claim: (exportId, attempt) => q.claim(db, exportId, attempt),
    version: (versionId) => sourceVersion(db, versionId),
    files: (versionId) => q.selectFiles(db, versionId),
    progress: (exportId, bytesDone) => q.recordProgress(db, exportId, bytesDone),
    claimArchive: (sha256, size) => claimBlob(db, sha256, size),
    succeed: (exportId, workspace, result) => succeed(db, exportId, workspace, result),
    retryLater: (exportId, errorMessage) => q.markRetrying(db, exportId, errorMessage),
    fail: (exportId, errorMessage) => q.markFailed(db, exportId, errorMessage),
  };
}

async function sourceVersion(db: Database, versionId: string): Promise<{ version: Version; revision: number } | undefined> {
  const hit = await q.selectVersion(db, versionId);
  return hit && { version: toVersion(hit.v, { workspace: hit.workspace, name: hit.model }), revision: hit.v.revision };
}

async function succeed(db: Database, exportId: string, workspace: string, result: ArchiveResult): Promise<void> {
  await db.transaction(async (tx) => {
    await recordHolding(tx, workspace, result.sha256, result.md5);
    await q.markSucceeded(tx, exportId, result);
  });
}
