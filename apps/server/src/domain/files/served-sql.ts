// What a download URL of a workspace may still serve: content that is a
// committed file of one of its versions, the archive of one of its
// finished exports, or content it holds that a file of one of its tasks
// (a checkpoint's, an input, an output) names. That the workspace holds the
// content (workspace_blobs) is not enough: that row outlives a deleted
// version, export or task until garbage collection runs. Nor is a task's
// file alone: it is declared before its content is uploaded, and the same
// digest held by another workspace must not be served here.
import { type Database, exports, versionFiles, versions } from "@modelreg/db";
import { ExportState } from "@modelreg/proto";
import { and, eq, sql } from "drizzle-orm";
import { rowsOf } from "../shared/raw-rows.js";

/** Whether the content is a committed file of one of the workspace's versions, a finished export's archive, or held and named by one of its tasks' files. */
export async function isServed(db: Database, workspace: string, sha256: string): Promise<boolean> {
  const [file] = await db
    .select({ versionId: versionFiles.versionId })
    .from(versionFiles)
    .innerJoin(versions, eq(versions.id, versionFiles.versionId))
    .where(and(eq(versionFiles.sha256, sha256), eq(versionFiles.draft, false), eq(versions.workspace, workspace)))
    .limit(1);
  if (file) return true;
  const [archive] = await db
    .select({ id: exports.id })
    .from(exports)
    .where(and(eq(exports.sha256, sha256), eq(exports.workspace, workspace), eq(exports.state, ExportState.SUCCEEDED)))
    .limit(1);
  return archive !== undefined || (await isTaskContent(db, workspace, sha256));
}

async function isTaskContent(db: Database, workspace: string, sha256: string): Promise<boolean> {
  const rows = rowsOf<{ one: number }>(
    await db.execute(sql`
      SELECT 1 AS one FROM workspace_blobs wb
      WHERE wb.workspace = ${workspace} AND wb.sha256 = ${sha256}
        AND (EXISTS (SELECT 1 FROM task_files f JOIN tasks t ON t.id = f.task_id WHERE f.sha256 = wb.sha256 AND t.workspace = wb.workspace)
          OR EXISTS (
            SELECT 1 FROM task_checkpoint_files f JOIN task_checkpoints c ON c.id = f.checkpoint_id JOIN tasks t ON t.id = c.task_id
            WHERE f.sha256 = wb.sha256 AND t.workspace = wb.workspace))`),
  );
  return rows.length > 0;
}
