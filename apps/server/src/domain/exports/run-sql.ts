// The queries of the export job (jobs/export-job.ts): each move of a
// record's state is one conditional UPDATE, so a move that is not allowed
// from the state the record is in (per MOVES_TO) changes nothing.
import { type Database, exports, type ExportRow, models, versionFiles, versions, type Tx } from "@modelreg/db";
import { ExportState } from "@modelreg/proto";
import { and, asc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { MOVES_TO } from "./rules.js";
import type { ArchiveResult, SourceFile } from "./types.js";

/** The condition that the export's state allows the move to `to`. */
function movesTo(to: ExportState): SQL {
  const from = MOVES_TO[to];
  return from.length === 1 ? eq(exports.state, from[0]!) : inArray(exports.state, [...from]);
}

/** Marks a live export RUNNING for try `attempt`, with no bytes done yet. */
export async function claim(db: Database, exportId: string, attempt: number): Promise<ExportRow | undefined> {
  const [claimed] = await db
    .update(exports)
    .set({ state: ExportState.RUNNING, attempts: attempt, bytesDone: 0, updateTime: sql`now()` })
    .where(and(eq(exports.id, exportId), movesTo(ExportState.RUNNING)))
    .returning();
  return claimed;
}

/** The version's row with its model's workspace and name. */
export async function selectVersion(db: Database, versionId: string) {
  const [hit] = await db
    .select({ v: versions, workspace: models.workspace, model: models.name })
    .from(versions)
    .innerJoin(models, eq(versions.modelId, models.id))
    .where(eq(versions.id, versionId));
  return hit;
}

/** The version's committed files, by path. */
export async function selectFiles(db: Database, versionId: string): Promise<SourceFile[]> {
  return db
    .select({ path: versionFiles.path, size: versionFiles.size, sha256: versionFiles.sha256, mediaType: versionFiles.mediaType })
    .from(versionFiles)
    .where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.draft, false)))
    .orderBy(asc(versionFiles.path));
}

/** Records the bytes packed so far; the export's state now, or undefined when it is gone. */
export async function recordProgress(db: Database, exportId: string, bytesDone: number): Promise<number | undefined> {
  const [row] = await db
    .update(exports)
    .set({ bytesDone, updateTime: sql`now()` })
    .where(eq(exports.id, exportId))
    .returning({ state: exports.state });
  return row?.state;
}

/** Marks a RUNNING export SUCCEEDED with its archive. */
export async function markSucceeded(tx: Tx, exportId: string, r: ArchiveResult): Promise<void> {
  await tx
    .update(exports)
    .set({
      state: ExportState.SUCCEEDED,
      bytesDone: r.total,
      bytesTotal: r.total,
      fileName: r.fileName,
      fileType: r.fileType,
      sizeBytes: r.size,
      md5: r.md5,
      sha256: r.sha256,
      errorMessage: "",
      sourceRevision: r.revision,
      endTime: sql`now()`,
      updateTime: sql`now()`,
    })
    .where(and(eq(exports.id, exportId), movesTo(ExportState.SUCCEEDED)));
}

/** Puts a RUNNING export back to PENDING, with what went wrong, for its next try. */
export async function markRetrying(db: Database, exportId: string, errorMessage: string): Promise<void> {
  await db
    .update(exports)
    .set({ state: ExportState.PENDING, errorMessage, updateTime: sql`now()` })
    .where(and(eq(exports.id, exportId), movesTo(ExportState.PENDING)));
}

/** Marks a live export FAILED for good. */
export async function markFailed(db: Database, exportId: string, errorMessage: string): Promise<void> {
  await db
    .update(exports)
    .set({ state: ExportState.FAILED, errorMessage, endTime: sql`now()`, updateTime: sql`now()` })
    .where(and(eq(exports.id, exportId), movesTo(ExportState.FAILED)));
}
