// What a download URL of a workspace may still serve: content that is a
// committed file of one of its versions, or the archive of one of its
// finished exports. That the workspace holds the content (workspace_blobs)
// is not enough: that row outlives a deleted version or export until garbage
// collection runs.
import { type Database, exports, versionFiles, versions } from "@modelreg/db";
import { ExportState } from "@modelreg/proto";
import { and, eq } from "drizzle-orm";

/** Whether the content is a committed file of one of the workspace's versions, or a finished export's archive. */
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
  return archive !== undefined;
}
